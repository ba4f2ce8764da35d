"""Reading a citizen's message: what they want, what kind of problem, where."""
from .classifier import Classifier

__all__ = ["Classifier"]
