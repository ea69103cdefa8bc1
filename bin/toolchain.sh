# Sourced by ./vecopt: exports JAVA_HOME (a JDK 25 or newer) and MVN (the pinned Maven), or stops with one line.
# Nothing has to be exported by hand: a JDK 25 is looked for in $JAVA_HOME, then in /usr/lib/jvm, then on PATH.
MAVEN_VERSION=3.9.11

jdk_feature() { # prints the feature release of the JDK at $1 (25 for 25.0.3), or nothing
  [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}

find_jdk() {
  local c v
  local jvms=${VECOPT_JVM_DIR:-/usr/lib/jvm}
  for c in "${JAVA_HOME:-}" "$jvms"/*25* "$jvms"/* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -d "$c" ] || continue
    v=$(jdk_feature "$c")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then echo "$c"; return 0; fi
  done
  return 1
}

if ! JAVA_HOME=$(find_jdk); then
  echo "vecopt: no JDK 25 found (looked at \$JAVA_HOME, /usr/lib/jvm/* and java on PATH); install one, e.g. Temurin 25, or point JAVA_HOME at it" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

# The pinned Maven is resolved by package name through whatever Maven the machine has, and unpacked once into
# ~/.cache/vecopt so that every build uses the same version.
maven_home="${VECOPT_CACHE:-$HOME/.cache/vecopt}/apache-maven-$MAVEN_VERSION"
if [ ! -x "$maven_home/bin/mvn" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "vecopt: Maven $MAVEN_VERSION is not unpacked yet and no 'mvn' is on PATH to fetch it; install Maven (any 3.x)" >&2
    exit 1
  fi
  echo "vecopt: fetching Maven $MAVEN_VERSION (once)..." >&2
  log=$(mktemp)
  if ! mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
      -Dartifact="org.apache.maven:apache-maven:$MAVEN_VERSION:zip:bin" -Dtransitive=false >"$log" 2>&1; then
    cat "$log" >&2; echo "vecopt: could not fetch Maven $MAVEN_VERSION (see above)" >&2; exit 1
  fi
  rm -f "$log"
  zip="$HOME/.m2/repository/org/apache/maven/apache-maven/$MAVEN_VERSION/apache-maven-$MAVEN_VERSION-bin.zip"
  tmp=$(mktemp -d)
  (cd "$tmp" && "$JAVA_HOME/bin/jar" xf "$zip")
  mkdir -p "$(dirname "$maven_home")"
  chmod +x "$tmp/apache-maven-$MAVEN_VERSION/bin/mvn"
  rm -rf "$maven_home" && mv "$tmp/apache-maven-$MAVEN_VERSION" "$maven_home" && rmdir "$tmp"
fi
MVN="$maven_home/bin/mvn"
export MVN

# Sets pom_value to property $1 of the parent pom, with ${...} references to its other properties resolved: how the
# launcher reads the JVM flags that the pom defines once (see the comment above them there).
pom_property() {
  local line v="" name ref
  while IFS= read -r line; do
    if [[ $line =~ "<$1>"(.*)"</$1>" ]]; then v=${BASH_REMATCH[1]}; break; fi
  done <"$VECOPT_POM"
  while [[ $v =~ '${'([A-Za-z0-9._-]+)'}' ]]; do
    ref=${BASH_REMATCH[0]} name=${BASH_REMATCH[1]}
    pom_property "$name"
    v=${v//"$ref"/"$pom_value"}
  done
  pom_value=$v
}
export -f pom_property # for bin/dispatch.sh

export VECOPT_POM="$here/pom.xml"
# Maven's own JVM gets its flag here rather than from .mvn/jvm.config, where a JDK 17 would refuse it before the
# enforcer can say that JDK 25 is needed.
pom_property vecopt.maven.jvm.args
export MAVEN_OPTS="$pom_value${MAVEN_OPTS:+ $MAVEN_OPTS}"
