"""Composition only: one Chalice app, one blueprint per service, Powertools registered once.

Event handlers tag their logs themselves (observability.with_log_context): on AWS their Lambda
imports the blueprint module, not this one.
"""

from chalice.app import Chalice
from chalicelib.alerting.blueprint import alerting
from chalicelib.analysis.blueprint import analysis
from chalicelib.egress.blueprint import egress
from chalicelib.ingress.blueprint import ingress
from chalicelib.observability import logging_middleware
from chalicelib.plumbing.blueprint import plumbing
from chalicelib.responding.blueprint import responding

# configure_logs=False: Chalice would set its logger, "xbot" (Powertools' logger, service "xbot", is
# the same logging.Logger), to ERROR with propagation off and a second plain-text handler: the
# webhook function would drop every INFO and WARNING line and print each error twice.
app = Chalice(app_name="xbot", configure_logs=False)
app.register_middleware(logging_middleware, "http")
app.register_blueprint(ingress, name_prefix="ingress_")
app.register_blueprint(plumbing, name_prefix="plumbing_")
app.register_blueprint(analysis, name_prefix="analysis_")
app.register_blueprint(alerting, name_prefix="alerting_")
app.register_blueprint(responding, name_prefix="responding_")
app.register_blueprint(egress, name_prefix="egress_")
