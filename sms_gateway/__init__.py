"""The 137 citizen gateway. Importing any part of it loads no Flask and no provider SDK: the app is
built by `sms_gateway.web.create_app`, everything else by `sms_gateway.bootstrap.build_gateway`."""

__version__ = "0.2.0"
