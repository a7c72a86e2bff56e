/* The case network, drawn with cytoscape (served from node_modules by the console).
   Reads the elements (nodes with role, colour, size, href and a preset position; edges with amount
   label, width and money-path membership) from the JSON block named by data-graph-source, so no
   inline script is needed (CSP: script-src 'self'). Zoom with the wheel or the toolbar; click (or
   Enter on the focused graph's selected node) an account to open its transactions page. The instance is exposed as
   window.fintechNetwork and the container gets data-node-count / data-edge-count once drawn, so
   tests and people can read what was drawn. */
(function () {
  "use strict";

  function status(text) {
    var el = document.querySelector("[data-graph-status]");
    if (el) el.textContent = text;
  }

  function style() {
    return [
      { selector: "node", style: {
          "background-color": "data(colour)", "width": "data(size)", "height": "data(size)",
          "label": "data(label)", "font-size": 9, "color": "#1b1f24", "text-valign": "bottom",
          "text-margin-y": 3, "min-zoomed-font-size": 7, "border-width": 1, "border-color": "#1b1f24" } },
      { selector: "node.seed", style: { "border-width": 4, "border-color": "#1b1f24" } },
      { selector: "edge", style: {
          "width": "data(width)", "line-color": "#8c959f", "target-arrow-color": "#8c959f",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8, "opacity": 0.75,
          "label": "data(label)", "font-size": 7, "color": "#3d444d", "text-rotation": "autorotate",
          "text-background-color": "#ffffff", "text-background-opacity": 0.8, "text-background-padding": 1,
          "min-zoomed-font-size": 8 } },
      { selector: "edge.money-path", style: { "line-color": "#b3261e", "target-arrow-color": "#b3261e", "opacity": 1, "z-index": 10 } },
      { selector: "edge.hide-label", style: { "label": "" } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: "edge.path-focus", style: { "line-color": "#0b57d0", "target-arrow-color": "#0b57d0", "opacity": 1, "width": 6, "z-index": 20 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#b45309" } }
    ];
  }

  function init(container) {
    var source = document.getElementById(container.getAttribute("data-graph-source"));
    if (!source) { status("The graph's data is missing from the page."); return; }
    if (typeof window.cytoscape !== "function") {
      status("The graph library could not be loaded (is cytoscape installed with npm ci?). The table below lists the accounts.");
      container.setAttribute("data-graph-error", "library");
      return;
    }
    var elements;
    try { elements = JSON.parse(source.textContent); } catch (e) {
      status("The graph's data could not be read.");
      return;
    }
    var cy = window.cytoscape({
      container: container, elements: elements, style: style(),
      layout: { name: "preset", fit: true, padding: 24 },
      minZoom: 0.05, maxZoom: 4, wheelSensitivity: 0.3, boxSelectionEnabled: false
    });
    window.fintechNetwork = cy;
    container.setAttribute("data-node-count", String(cy.nodes().length));
    container.setAttribute("data-edge-count", String(cy.edges().length));
    container.setAttribute("tabindex", "0");
    status(cy.nodes().length + " accounts drawn. Scroll to zoom, drag to pan, click an account to open its transactions.");

    cy.on("tap", "node", function (event) {
      var href = event.target.data("href");
      if (href) window.location.assign(href);
    });
    cy.on("mouseover", "node", function (event) {
      var d = event.target.data();
      container.title = d.id + " (" + d.role + "), in " + (d.total_in || "0") + ", out " + (d.total_out || "0");
    });

    function zoomBy(factor) {
      cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: container.clientWidth / 2, y: container.clientHeight / 2 } });
    }
    document.querySelectorAll("[data-graph-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.getAttribute("data-graph-action");
        if (action === "zoom-in") zoomBy(1.25);
        else if (action === "zoom-out") zoomBy(0.8);
        else if (action === "fit") { cy.elements().removeClass("faded path-focus"); cy.fit(undefined, 24); }
        else if (action === "labels") {
          var on = button.getAttribute("aria-pressed") !== "true";
          button.setAttribute("aria-pressed", on ? "true" : "false");
          if (on) cy.edges().removeClass("hide-label"); else cy.edges().addClass("hide-label");
        }
      });
    });
    // Keyboard: + / - zoom, 0 fits, when the graph has focus.
    container.addEventListener("keydown", function (event) {
      if (event.key === "+" || event.key === "=") { zoomBy(1.25); event.preventDefault(); }
      else if (event.key === "-") { zoomBy(0.8); event.preventDefault(); }
      else if (event.key === "0") { cy.fit(undefined, 24); event.preventDefault(); }
    });
    // A money path from the side panel: focus its edges and accounts, fade the rest.
    document.querySelectorAll("[data-graph-path]").forEach(function (button) {
      button.addEventListener("click", function () {
        var index = Number(button.getAttribute("data-graph-path"));
        var edges = cy.edges().filter(function (edge) { return (edge.data("paths") || []).indexOf(index) >= 0; });
        cy.elements().removeClass("path-focus").addClass("faded");
        edges.removeClass("faded").addClass("path-focus");
        edges.connectedNodes().removeClass("faded");
        cy.fit(edges.union(edges.connectedNodes()), 40);
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-graph-source]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
