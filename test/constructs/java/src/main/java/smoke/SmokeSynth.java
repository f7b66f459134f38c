package smoke;

import io.github.observedlambda.BuiltInDashboard;
import io.github.observedlambda.Dashboard;
import io.github.observedlambda.DashboardPanel;
import io.github.observedlambda.DashboardRow;
import io.github.observedlambda.FlushStrategy;
import io.github.observedlambda.GrafanaAuthentication;
import io.github.observedlambda.GrafanaWorkspace;
import io.github.observedlambda.ObserveFunctions;
import io.github.observedlambda.PanelProps;
import io.github.observedlambda.PanelQuery;
import io.github.observedlambda.PrometheusDestinationOptions;
import io.github.observedlambda.PrometheusWorkspace;
import io.github.observedlambda.PushgatewayDestinationOptions;
import io.github.observedlambda.StoredSecret;
import io.github.observedlambda.TelemetryDestination;
import io.github.observedlambda.TelemetryOptions;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.secretsmanager.Secret;

/** Synthesizes a stack with the observed-lambda Java package and checks what it holds. */
public final class SmokeSynth {
  public static void main(String[] args) throws Exception {
    App app = App.Builder.create().outdir(Files.createTempDirectory("observed-java-").toString()).build();
    Stack stack = new Stack(app, "JavaSmoke", StackProps.builder()
        .env(Environment.builder().account("111122223333").region("eu-west-1").build())
        .build());

    PrometheusWorkspace workspace = PrometheusWorkspace.Builder.create(stack, "Metrics").alias("java-smoke").build();
    Dashboard team = new Dashboard(io.github.observedlambda.DashboardProps.builder()
        .uid("java-team")
        .title("Java team")
        .rows(List.of(DashboardRow.builder()
            .title("Traffic")
            .panels(List.of(DashboardPanel.timeSeries(PanelProps.builder()
                .title("Invocations")
                .unit("reqps")
                .queries(List.of(PanelQuery.builder().expr("sum(rate(faas_invocations_total[$__rate_interval]))").build()))
                .build())))
            .build()))
        .build());
    GrafanaWorkspace.Builder.create(stack, "Dashboards")
        .authentication(GrafanaAuthentication.iamIdentityCenter())
        .prometheus(workspace)
        .builtInDashboards(List.of(BuiltInDashboard.LAMBDA_OVERVIEW))
        .additionalDashboards(List.of(team))
        .build();

    Function fn = Function.Builder.create(stack, "Existing")
        .runtime(Runtime.NODEJS_22_X)
        .handler("index.handler")
        .code(Code.fromInline("exports.handler = async () => 'ok';"))
        .build();
    Secret pushAuth = Secret.Builder.create(stack, "PushAuth").build();
    boolean observed = ObserveFunctions.observe(fn, TelemetryOptions.builder()
        .destinations(List.of(
            TelemetryDestination.prometheus(workspace, PrometheusDestinationOptions.builder()
                .externalLabels(Map.of("cluster", "java"))
                .build()),
            TelemetryDestination.pushgateway(PushgatewayDestinationOptions.builder()
                .url("http://pushgateway:9091")
                .externalLabels(Map.of("cluster", "java"))
                .basicAuth(StoredSecret.fromSecret(pushAuth))
                .build())))
        .flush(FlushStrategy.endOfInvocation())
        .flushTimeout(Duration.seconds(1))
        .build());

    String refused = null;
    try {
      ObserveFunctions.observe(Function.Builder.create(stack, "Other")
          .runtime(Runtime.NODEJS_22_X)
          .handler("index.handler")
          .code(Code.fromInline("exports.handler = async () => 'ok';"))
          .build(), TelemetryOptions.builder()
          .destinations(List.of(TelemetryDestination.pushgateway(PushgatewayDestinationOptions.builder()
              .url("http://pushgateway:9091").maxLabels(2).build())))
          .build());
    } catch (RuntimeException error) {
      refused = error.getMessage();
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> template = (Map<String, Object>) app.synth().getStackByName("JavaSmoke").getTemplate();
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> resources = (Map<String, Map<String, Object>>) template.get("Resources");
    TreeSet<String> types = new TreeSet<>();
    TreeSet<String> environment = new TreeSet<>();
    String dashboards = "";
    for (Map<String, Object> resource : resources.values()) {
      types.add((String) resource.get("Type"));
      @SuppressWarnings("unchecked")
      Map<String, Object> props = (Map<String, Object>) resource.get("Properties");
      if ("AWS::Lambda::Function".equals(resource.get("Type")) && props.containsKey("Layers")) {
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> env = (Map<String, Map<String, Object>>) props.get("Environment");
        environment.addAll(env.get("Variables").keySet());
      }
      if ("Custom::ObservedLambdaGrafana".equals(resource.get("Type"))) dashboards = String.valueOf(props.get("Dashboards"));
    }
    System.out.println("observed=" + observed + " types=" + types + " environment=" + environment);
    check(observed, "observe() returned false");
    for (String type : List.of("AWS::APS::Workspace", "AWS::Grafana::Workspace", "AWS::Lambda::LayerVersion",
        "Custom::ObservedLambdaGrafana")) {
      check(types.contains(type), type + " missing from " + types);
    }
    check(environment.equals(new TreeSet<>(List.of("AWS_LAMBDA_EXEC_WRAPPER", "OBSERVED_FLUSH",
        "OBSERVED_FLUSH_TIMEOUT_MS", "OBSERVED_PROMETHEUS_EXTERNAL_LABELS", "OBSERVED_PUSHGATEWAY_BASIC_AUTH_SECRET_ARN",
        "OBSERVED_PUSHGATEWAY_URL", "OBSERVED_REMOTE_WRITE_URL"))), "unexpected environment " + environment);
    check(dashboards.contains("java-team") && dashboards.contains("observed-lambda-overview")
        && !dashboards.contains("observed-lambda-function"), "unexpected dashboards " + dashboards);
    check(refused != null && refused.contains("maxLabels: OBSERVED_PROMETHEUS_MAX_LABELS=2 is not valid")
        && refused.contains("(at JavaSmoke/Other)"), "bad settings were not refused with the option and path: " + refused);
    System.out.println("java smoke test: 1 passed, 0 failed");
  }

  private static void check(boolean ok, String message) {
    if (!ok) throw new AssertionError(message);
  }
}
