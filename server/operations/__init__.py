"""OperationsService: what SREs and the console see of the platform (health, the inference pool, figures, drills)."""
