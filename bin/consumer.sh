#!/usr/bin/env bash
# The consumer check (run by `./vecopt test` and `./vecopt consumer`; needs JAVA_HOME and MVN from bin/toolchain.sh):
# consumer/ is a Maven project outside the vecopt build that depends on dev.vecopt:vecopt-engine as any other project
# would. This installs the engine (a real `mvn install`, with its sources and javadoc jars) into a local repository
# under target/, builds the consumer against it, and runs its program on the class path and on the module path.
#
# The user's own local repository is not written: the install goes to target/consumer/m2, and Maven reads the
# plugins and anything else it already has from the user's repository, chained behind it read-only
# (maven.repo.local.tail, Maven 3.9). What is missing there is downloaded into target/consumer/m2.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/target/consumer"
repo="$work/m2"
# The user's repository, found as Maven finds it: -Dmaven.repo.local (in MAVEN_OPTS or MAVEN_ARGS), else the
# <localRepository> of ~/.m2/settings.xml, else ~/.m2/repository, where ~ is Java's user.home (which need not be
# $HOME). A wrong guess costs only time: what the tail lacks is downloaded into target/consumer/m2.
user_home=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *user.home = //p')
user_repo="$user_home/.m2/repository"
if [ -f "$user_home/.m2/settings.xml" ]; then
  configured=$(sed -n 's:.*<localRepository>\(.*\)</localRepository>.*:\1:p' "$user_home/.m2/settings.xml")
  [ -n "$configured" ] && user_repo=$configured
fi
for a in ${MAVEN_OPTS:-} ${MAVEN_ARGS:-}; do
  [[ $a == -Dmaven.repo.local=* ]] && user_repo=${a#*=}
done
version=0.1.0-SNAPSHOT
mvn_isolated=("$MVN" -q -Dmaven.repo.local="$repo" -Dmaven.repo.local.tail="$user_repo")

quiet() { # runs "$@" showing its output only when it fails
  local log; log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "vecopt: consumer check failed: $*" >&2; exit 1
  fi
  rm -f "$log"
}

echo "vecopt: consumer check: installing the engine into target/consumer/m2, building consumer/ against it..." >&2
rm -rf "$repo/dev/vecopt"
quiet "${mvn_isolated[@]}" -f "$root/pom.xml" -pl engine -am install -DskipTests
installed="$repo/dev/vecopt/vecopt-engine/$version"
for jar in "vecopt-engine-$version.jar" "vecopt-engine-$version-sources.jar" "vecopt-engine-$version-javadoc.jar"; do
  [ -f "$installed/$jar" ] || { echo "vecopt: consumer check failed: the install did not put $jar in $installed" >&2; exit 1; }
done

rm -rf "$root/consumer/target"
quiet "${mvn_isolated[@]}" -f "$root/consumer/pom.xml" package dependency:build-classpath \
  -Dmdep.outputFile="$root/consumer/target/classpath.txt" -Dmdep.includeScope=runtime
jars="$root/consumer/target/vecopt-consumer-1.jar:$(cat "$root/consumer/target/classpath.txt")"
[[ $jars == *"$installed/vecopt-engine-$version.jar"* ]] \
  || { echo "vecopt: consumer check failed: consumer/ did not resolve the engine installed in $installed: $jars" >&2; exit 1; }

# The flags are the ones the README gives an external project, spelled here as such a project would spell them: on
# the class path the incubating Vector API must be added by hand; on the module path the engine's module requires it.
# The JVM's incubator notice (stderr's first line) is dropped; anything else on stderr shows.
run() {
  local err; err=$(mktemp)
  if ! "$JAVA_HOME/bin/java" "$@" 2>"$err"; then
    cat "$err" >&2; rm -f "$err"; echo "vecopt: consumer check failed: java $*" >&2; exit 1
  fi
  grep -v '^WARNING: Using incubator modules' "$err" >&2 || true
  rm -f "$err"
}
run --add-modules=jdk.incubator.vector -cp "$jars" example.Train
run --module-path "$jars" --module example/example.Train
echo "vecopt: consumer check passed (class path and module path)" >&2
