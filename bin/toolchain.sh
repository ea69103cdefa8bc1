# Sourced by bin/dispatch.sh. need_jdk exports JAVA_HOME (a JDK 25 or newer) and need_maven exports MVN (the pinned
# Maven) and MAVEN_OPTS; each stops with one line when it cannot. They are called only by the commands that need
# them, so that `./vecopt help` starts nothing and a run on an unchanged checkout starts one JVM, the program's.
MAVEN_VERSION=3.9.11
# The checkout this file belongs to, unless the caller set it (so that sourcing it by hand works too).
case ${BASH_SOURCE[0]} in */*) root=${root:-${BASH_SOURCE[0]%/*}/..} ;; *) root=${root:-..} ;; esac

jdk_feature() { # sets jdk_release to the feature release of the JDK at $1 (25 for 25.0.3), or to nothing
  # Every JDK since 9 has a `release` file; reading it costs nothing, where asking java costs a JVM start. (Bash
  # built-ins only here and below, as a forked process costs tens of milliseconds on a busy machine.)
  local line
  jdk_release=
  [ -x "$1/bin/javac" ] || return 0
  if [ -r "$1/release" ]; then
    while IFS= read -r line; do
      if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then jdk_release=${BASH_REMATCH[1]}; return 0; fi
    done <"$1/release"
  fi
  line=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  jdk_release=${line%%.*}
}

need_jdk() { # exports JAVA_HOME: the first JDK 25 or newer in $JAVA_HOME, /usr/lib/jvm/* (25s first), on PATH
  local c jvms=${VECOPT_JVM_DIR:-/usr/lib/jvm} on_path
  for c in "${JAVA_HOME:-}" "$jvms"/*25* "$jvms"/* PATH; do
    if [ "$c" = PATH ]; then # looked at last, as resolving it forks
      on_path=$(command -v java 2>/dev/null) || continue
      on_path=$(readlink -f "$on_path")
      c=${on_path%/bin/java}
    fi
    [ -n "$c" ] && [ -d "$c" ] || continue
    jdk_feature "$c"
    if [ -n "$jdk_release" ] && [ "$jdk_release" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME=$c
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "vecopt: no JDK 25 found (looked at \$JAVA_HOME, $jvms/* and java on PATH); install one, e.g. Temurin 25, or point JAVA_HOME at it" >&2
  exit 1
}

# The pinned Maven is resolved by package name through whatever Maven the machine has, and unpacked once into
# ~/.cache/vecopt (or $VECOPT_CACHE) so that every build uses the same version.
need_maven() {
  need_jdk
  local maven_home="${VECOPT_CACHE:-$HOME/.cache/vecopt}/apache-maven-$MAVEN_VERSION"
  if [ ! -x "$maven_home/bin/mvn" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      echo "vecopt: Maven $MAVEN_VERSION is not unpacked yet and no 'mvn' is on PATH to fetch it; install Maven (any 3.x)" >&2
      exit 1
    fi
    echo "vecopt: fetching Maven $MAVEN_VERSION (once)..." >&2
    local log tmp
    log=$(mktemp); tmp=$(mktemp -d)
    # Copied straight into a temporary folder, wherever that Maven keeps its local repository. Run from that folder,
    # so that this project's .mvn settings do not apply to a Maven of another version.
    if ! (cd "$tmp" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
        -Dartifact="org.apache.maven:apache-maven:$MAVEN_VERSION:zip:bin" -DoutputDirectory="$tmp") >"$log" 2>&1; then
      cat "$log" >&2; rm -rf "$log" "$tmp"
      echo "vecopt: could not fetch Maven $MAVEN_VERSION (see above)" >&2; exit 1
    fi
    rm -f "$log"
    (cd "$tmp" && "$JAVA_HOME/bin/jar" xf "apache-maven-$MAVEN_VERSION-bin.zip")
    mkdir -p "$(dirname "$maven_home")"
    chmod +x "$tmp/apache-maven-$MAVEN_VERSION/bin/mvn"
    rm -rf "$maven_home" && mv "$tmp/apache-maven-$MAVEN_VERSION" "$maven_home" && rm -rf "$tmp"
  fi
  export MVN="$maven_home/bin/mvn"
  pom_property vecopt.maven.jvm.args
  export MAVEN_OPTS="$pom_value${MAVEN_OPTS:+ $MAVEN_OPTS}"
}

# Sets pom_value to property $1 of the parent pom, with ${...} references to its other properties resolved: how the
# launcher reads the JVM flags that the pom defines once (see the comment above them there).
pom_property() {
  local line v="" name ref
  while IFS= read -r line; do
    if [[ $line =~ "<$1>"(.*)"</$1>" ]]; then v=${BASH_REMATCH[1]}; break; fi
  done <"$root/pom.xml"
  while [[ $v =~ '${'([A-Za-z0-9._-]+)'}' ]]; do
    ref=${BASH_REMATCH[0]} name=${BASH_REMATCH[1]}
    pom_property "$name"
    v=${v//"$ref"/"$pom_value"}
  done
  pom_value=$v
}
