"""Intent routing for the customer service: the BANKING77 classifier, its artefact and its scoring."""

from server.customer.intents.model import IntentClassifier, IntentPrediction
from server.customer.intents.scoring import evaluate_csv, intent_metrics, score

__all__ = ["IntentClassifier", "IntentPrediction", "evaluate_csv", "intent_metrics", "score"]
