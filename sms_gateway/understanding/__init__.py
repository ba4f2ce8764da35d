"""Reading a citizen's SMS: what they want, what kind of problem, where."""
from .model import Understanding
from .classifier import Classifier

__all__ = ["Understanding", "Classifier"]
