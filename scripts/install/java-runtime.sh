#!/usr/bin/env bash
# Java functions in the sandbox: AWS's runtime interface client (the client Lambda's managed Java runtimes
# start) with its dependencies, the OpenTelemetry API a handler compiles against, and the OpenTelemetry
# Java agent, all from Maven Central, into the tools cache:
#   $OBSERVED_TOOLS_CACHE/java-runtime-<version>/lib/*.jar               class path of the runtime
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
for tool in java javac mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "java-runtime: $tool is not on PATH (Java 17 JDK and Maven)" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir/lib"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>observed-lambda</groupId>
  <artifactId>java-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>com.amazonaws</groupId>
      <artifactId>aws-lambda-java-runtime-interface-client</artifactId>
      <version>$RIC_VERSION</version>
    </dependency>
    <dependency>
      <groupId>io.opentelemetry</groupId>
      <artifactId>opentelemetry-api</artifactId>
      <version>$OTEL_API_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir/lib" -DincludeScope=runtime
mvn -q -B -f "$work/pom.xml" dependency:copy \
  -Dartifact="io.opentelemetry.javaagent:opentelemetry-javaagent:$JAVAAGENT_VERSION" \
  -DoutputDirectory="$dir" -Dmdep.stripVersion=true
test -f "$dir/opentelemetry-javaagent.jar"
ls "$dir/lib"/aws-lambda-java-runtime-interface-client-*.jar >/dev/null
touch "$dir/complete"
echo "$dir"
