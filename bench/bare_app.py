"""The floor for bench/load.py: a Flask endpoint that only answers a static TwiML, nothing else."""
from flask import Flask, Response

app = Flask(__name__)
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


@app.post("/webhooks/twilio/sms")
def sms():
    return Response(TWIML, mimetype="application/xml")
