"""SMS providers, one module each, chosen by name from configuration."""
from .console import ConsoleProvider
from .kavenegar import KavenegarProvider
from .melipayamak import MelipayamakProvider
from .twilio import TwilioProvider

PROVIDERS = {
    "console": ConsoleProvider,
    "twilio": TwilioProvider,
    "kavenegar": KavenegarProvider,
    "melipayamak": MelipayamakProvider,
}
