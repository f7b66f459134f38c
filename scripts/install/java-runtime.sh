#!/usr/bin/env bash
# Java functions in the sandbox: AWS's runtime interface client (the client Lambda's managed Java runtimes
# start) with its dependencies, the OpenTelemetry API a handler compiles against, and the OpenTelemetry
# Java agent, all from Maven Central, into the tools cache:
#   $OBSERVED_TOOLS_CACHE/java-runtime-<version>/runtime/lib/*.jar        the runtime client (LAMBDA_RUNTIME_DIR/lib)
#   $OBSERVED_TOOLS_CACHE/java-runtime-<version>/function-lib/*.jar       what a function ships: the OpenTelemetry API
#   $OBSERVED_TOOLS_CACHE/java-runtime-<version>/opentelemetry-javaagent.jar
set -euo pipefail
. "$(dirname "$0")/tools-cache.sh"
RIC_VERSION=2.10.1
JAVAAGENT_VERSION=2.33.1
# The API release the agent itself carries (its shaded api/version.properties), so the bridge matches.
OTEL_API_VERSION=1.67.0
dir="$OBSERVED_TOOLS_CACHE/java-runtime-$RIC_VERSION-$JAVAAGENT_VERSION"
if [ -f "$dir/complete" ]; then
  exit 0
fi
if ! command -v javac >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  # A Java 17 JDK (the sandbox compiles the test functions) and Maven, from Debian.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >/dev/null
fi
for tool in java javac mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "java-runtime: $tool is not on PATH (Java 17 JDK and Maven)" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir/runtime/lib" "$dir/function-lib"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# copy_with_dependencies GROUP ARTIFACT VERSION DIR: the artifact and its runtime dependencies into DIR.
copy_with_dependencies() {
  mkdir -p "$work/$2"
  cat >"$work/$2/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>observed-lambda</groupId>
  <artifactId>$2-set</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$work/$2/pom.xml" dependency:copy-dependencies -DoutputDirectory="$4" -DincludeScope=runtime
}
# What Lambda's Java runtime has in /var/runtime/lib, and what a function ships in its own lib/.
copy_with_dependencies com.amazonaws aws-lambda-java-runtime-interface-client "$RIC_VERSION" "$dir/runtime/lib"
copy_with_dependencies io.opentelemetry opentelemetry-api "$OTEL_API_VERSION" "$dir/function-lib"
mvn -q -B -f "$work/opentelemetry-api/pom.xml" dependency:copy \
  -Dartifact="io.opentelemetry.javaagent:opentelemetry-javaagent:$JAVAAGENT_VERSION" \
  -DoutputDirectory="$dir" -Dmdep.stripVersion=true
test -f "$dir/opentelemetry-javaagent.jar"
ls "$dir/runtime/lib"/aws-lambda-java-runtime-interface-client-*.jar >/dev/null
touch "$dir/complete"
echo "$dir"
