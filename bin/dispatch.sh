#!/usr/bin/env bash
# Runs a vecopt command with JAVA_HOME and MVN set by bin/toolchain.sh (see ./vecopt).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The JVM flags every vecopt program needs, as the parent pom defines them; the incubator notice is filtered from
# stderr below (one line, every JVM).
pom_property vecopt.jvm.args
read -r -a JAVA_FLAGS <<<"$pom_value"

build() { # quiet build of module $1 and what it needs (in the reactor, nothing installed), then its class path
  local log; log=$(mktemp)
  if ! "$MVN" -q -DskipTests -pl "$1" -am package dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "vecopt: build failed (log above)" >&2; exit 1
  fi
  rm -f "$log"
  echo "$root/$1/target/classes:$(cat "$1/target/classpath.txt")"
}

run_java() { # module main-class args...
  # stderr passes through unbuffered (a \r progress bar has no newline a line filter could wait for); only the JVM's
  # first line, the incubator notice, is dropped. Programs learn through VECOPT_PROGRESS whether stderr is a terminal.
  local module=$1 main=$2; shift 2
  local cp progress; cp=$(build "$module")
  progress=$([ -t 2 ] && echo bar || echo lines)
  { VECOPT_PROGRESS=$progress "$JAVA_HOME/bin/java" "${JAVA_FLAGS[@]}" -cp "$cp" "$main" "$@" 2>&1 1>&3 3>&- \
    | (IFS= read -r first || exit 0; [[ $first == "WARNING: Using incubator modules"* ]] || printf '%s\n' "$first"
       exec cat) >&2; } 3>&1
}


cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
  run)  run_java examples vecopt.examples.train.TrainMain "$@" ;;
  # --- training demo (issue 6) ---
  train) run_java examples vecopt.examples.train.TrainMain "$@" ;;
  quickstart) run_java examples vecopt.examples.QuickStart "$@" ;;
  # --- end training demo ---
  test) exec "$MVN" test "$@" ;;
  test-long) # the property suites again and again with fresh random seeds: ./vecopt test-long [rounds, default 10]
    rounds=${1:-10}
    for ((i = 1; i <= rounds; i++)); do
      echo "vecopt: property round $i of $rounds" >&2
      "$MVN" -q -pl verification -am test -Dtest='*Properties' -Dsurefire.failIfNoSpecifiedTests=false || exit 1
    done
    echo "vecopt: $rounds rounds of properties passed" >&2 ;;
  # --- schedules (issue 4) ---
  schedules) run_java examples vecopt.examples.ScheduleChart "$@" ;;
  # --- end schedules ---
  # --- benchmarks (issue 5): JMH suite, regression comparison, charts ---
  # GOMP_SPINCOUNT: the native peer's OpenMP threads spin briefly, then sleep, as the engine's pool does; libgomp's
  # default long spin made 2 threads 10-30x slower than 1 on a loaded 2-core machine (JMH forks inherit it).
  bench)   export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-1000}; run_java bench vecopt.bench.BenchMain "$@" ;;
  compare) run_java bench vecopt.bench.Compare "$@" ;;
  chart)   run_java bench vecopt.bench.ChartMain "$@" ;;
  # --- end benchmarks ---
  help|-h|--help)
    cat <<'HELP'
usage: ./vecopt [command] [args]
  run (default)  the main job: the training demo (same as train)
  train          trains a small MLP under several lr/clipping recipes; table + chart in out/ (train --help)
  quickstart     the smallest vecopt program: a few AdamW steps on a quadratic
  test           the test suite (what CI runs)
  test-long [n]  the property suites n more times (default 10) with fresh random seeds
  schedules      tabulate and plot learning-rate schedules (--help for options)
  bench          JMH benchmarks: --quick (headline, < 3 min), or the suite with JMH options; report FILE.json
  compare        compare two JMH JSON results, or one against a baseline of ratios; exit 1 on a regression
  chart          chart of a JMH JSON result: throughput vs size per kernel, ceilings as lines (SVG + PNG)
  help           this text
HELP
    ;;
  *) echo "vecopt: unknown command '$cmd' (try ./vecopt help)" >&2; exit 2 ;;
esac
