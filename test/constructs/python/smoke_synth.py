"""Imports the observed-lambda Python package built by jsii-pacmak and synthesizes a stack with it."""

import json
import sys
import tempfile

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

import observed_lambda as ol


def main() -> None:
    outdir = tempfile.mkdtemp(prefix="observed-python-")
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "PythonSmoke", env=cdk.Environment(account="111122223333", region="eu-west-1"))

    workspace = ol.PrometheusWorkspace(stack, "Metrics", alias="python-smoke")
    ol.GrafanaWorkspace(
        stack,
        "Dashboards",
        authentication=ol.GrafanaAuthentication.iam_identity_center(),
        prometheus=workspace,
    )
    fn = lambda_.Function(
        stack,
        "Existing",
        runtime=lambda_.Runtime.NODEJS_22_X,
        handler="index.handler",
        code=lambda_.Code.from_inline("exports.handler = async () => 'ok';"),
    )
    python_fn = lambda_.Function(
        stack,
        "PythonFunction",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return 'ok'\n"),
    )
    observed = ol.ObserveFunctions.observe(
        fn,
        destinations=[ol.TelemetryDestination.prometheus(workspace)],
        flush=ol.FlushStrategy.end_of_invocation(),
    )
    python_observed = ol.ObserveFunctions.observe(
        python_fn, destinations=[ol.TelemetryDestination.pushgateway(url="http://pushgateway:9091")]
    )

    template = app.synth().get_stack_by_name("PythonSmoke").template
    resources = template["Resources"]
    types = sorted({r["Type"] for r in resources.values()})
    functions = {
        r["Properties"]["Runtime"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
    }
    layers = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Lambda::LayerVersion"}
    summary = {
        "observed": observed,
        "pythonObserved": python_observed,
        "types": types,
        "nodeEnvironment": sorted(functions["nodejs22.x"]["Environment"]["Variables"].keys()),
        "pythonEnvironment": functions["python3.13"]["Environment"]["Variables"],
        "pythonLayers": [layers[ref["Ref"]]["CompatibleRuntimes"] for ref in functions["python3.13"]["Layers"]],
    }
    print(json.dumps(summary))
    assert observed is True and python_observed is True, summary
    for required in ("AWS::APS::Workspace", "AWS::Grafana::Workspace", "AWS::Lambda::LayerVersion", "Custom::ObservedLambdaGrafana"):
        assert required in types, f"{required} missing from {types}"
    assert summary["nodeEnvironment"] == [
        "AWS_LAMBDA_EXEC_WRAPPER",
        "OBSERVED_FLUSH",
        "OBSERVED_REMOTE_WRITE_URL",
    ], summary
    # The Python function: the layer for runtimes without Node.js, and its OpenTelemetry SDK's settings.
    assert len(summary["pythonLayers"]) == 1 and "python3.13" in summary["pythonLayers"][0], summary
    assert summary["pythonEnvironment"] == {
        "OBSERVED_PUSHGATEWAY_URL": "http://pushgateway:9091",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT": "5000",
    }, summary


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - report and fail
        print(f"python smoke test failed: {error}", file=sys.stderr)
        raise
    print("python smoke test: 1 passed, 0 failed")
