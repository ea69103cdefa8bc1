#!/usr/bin/env bash
# Runs a vecopt command (see ./vecopt and `./vecopt help`); ./vecopt sources it.
set -euo pipefail
here=${BASH_SOURCE[0]}
[[ $here == */* ]] && here=${here%/*} || here=.
cd "$here/.."
root=$PWD
source "$root/bin/toolchain.sh"

# Where the launcher keeps, per module, the class path of its last build. The file's time is when that build
# started: the module is built again only when a pom, a .mvn setting or a source of it or of a module on its class
# path is newer (an edit, a checkout, an added or deleted file, which touches its directory), or when an entry of
# the class path is gone (mvn clean). Checking costs one `find`; a build costs Maven's start and more.
launch_cache="$root/target/launcher"

stale() { # stamp classpath: true when the build recorded by the stamp must be redone
  local stamp=$1 entry watched=("$root/pom.xml" "$root/.mvn") entries
  IFS=: read -r -a entries <<<"$2"
  for entry in "${entries[@]}"; do
    [ -e "$entry" ] || return 0
    # a module of this reactor: its build output is on the class path, so its pom and sources are watched
    if [[ $entry == "$root"/*/target/classes ]]; then
      entry=${entry%/target/classes}
      watched+=("$entry/pom.xml" "$entry/src")
    fi
  done
  [ -n "$(find "${watched[@]}" -newer "$stamp" -print -quit 2>/dev/null)" ]
}

classpath() { # module [scope]: sets module_classpath, building the module and what it needs first when anything changed
  local module=$1 scope=${2:-runtime} saved="$launch_cache/$1${2:+.$2}.classpath"
  if [ -f "$saved" ]; then
    IFS= read -r module_classpath <"$saved"
    stale "$saved" "$module_classpath" || return 0
  fi
  need_maven
  echo "vecopt: building $module..." >&2
  mkdir -p "$launch_cache"
  local started log; started=$(mktemp "$launch_cache/started.XXXXXX"); log=$(mktemp)
  # process-classes, not package: a run needs the classes (and the bench's native peer, built in that phase), and
  # in a reactor build the modules it depends on resolve to their target/classes.
  if ! "$MVN" -q -DskipTests -pl "$module" -am process-classes dependency:build-classpath \
        -Dmdep.outputFile="$started.deps" -DincludeScope="$scope" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log" "$started" "$started.deps"; echo "vecopt: build of $module failed (log above)" >&2
    exit 1
  fi
  rm -f "$log"
  IFS= read -r module_classpath <"$started.deps" || true # no line at all: no dependencies
  module_classpath="$root/$module/target/classes${module_classpath:+:$module_classpath}"
  echo "$module_classpath" >"$started"
  rm -f "$started.deps"
  mv "$started" "$saved" # mv keeps the time the build started: a file edited during the build counts as changed
}

run_java() { # module main-class args...
  # stderr passes through unbuffered (a \r progress bar has no newline a line filter could wait for); only the JVM's
  # first line, the incubator notice, is dropped. Programs learn through VECOPT_PROGRESS whether stderr is a terminal.
  local module=$1 main=$2 progress=lines flags
  shift 2
  need_jdk
  classpath "$module"
  pom_property vecopt.jvm.args
  [ -n "$pom_value" ] || { echo "vecopt: pom.xml has no <vecopt.jvm.args> line (the JVM flags)" >&2; exit 1; }
  read -r -a flags <<<"$pom_value"
  [ -t 2 ] && progress=bar
  { VECOPT_PROGRESS=$progress "$JAVA_HOME/bin/java" "${flags[@]}" -cp "$module_classpath" "$main" "$@" 2>&1 1>&3 3>&- \
    | (IFS= read -r first || exit 0; [[ $first == "WARNING: Using incubator modules"* ]] || printf '%s\n' "$first"
       exec cat) >&2; } 3>&1
}

run_spark() { # main-class args...: a program of the spark module, Spark (a provided dependency) on its class path
  local main=$1 flags spark_flags line
  shift
  need_jdk
  classpath spark compile # compile scope: provided dependencies (Spark) included
  pom_property vecopt.jvm.args
  read -r -a flags <<<"$pom_value"
  # Spark's --add-opens list, which the spark module's pom keeps for its tests (spark.jvm.args)
  while IFS= read -r line; do
    if [[ $line =~ "<spark.jvm.args>"(.*)"</spark.jvm.args>" ]]; then read -r -a spark_flags <<<"${BASH_REMATCH[1]}"; fi
  done <"$root/spark/pom.xml"
  # local-cluster starts Spark's standalone workers in this JVM, which launch executor JVMs as a Spark install would:
  # they need a Spark home (a fake one: an empty RELEASE file and an empty jars/), the Scala version, an address
  export SPARK_HOME="$root/spark/target/fake-spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
  mkdir -p "$SPARK_HOME/jars" && touch "$SPARK_HOME/RELEASE"
  "$JAVA_HOME/bin/java" "${flags[@]}" "${spark_flags[@]}" -cp "$module_classpath" "$main" "$@" \
    2> >(grep -v -E "^WARNING: (Using incubator modules|package sun.security.action)|^[0-9/]+ [0-9:]+ INFO " >&2)
}

cmd=${1:-train}
if [[ $cmd == -* && $cmd != -h && $cmd != --help ]]; then
  cmd=train # ./vecopt --steps 100: flags alone go to the main job
else
  [ $# -gt 0 ] && shift
fi
case "$cmd" in
  # The main job trains a DJL (PyTorch) transformer: PyTorch's OpenMP threads sleep when idle instead of spinning
  # against vecopt's pool (TrainMain sets PyTorch's own thread count, --torch-threads).
  train)      export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
              run_java djl vecopt.djl.train.TrainMain "$@" ;;
  quickstart) run_java examples vecopt.examples.QuickStart "$@" ;;
  state-error) run_java examples vecopt.examples.StateError "$@" ;;
  test)
    need_maven
    "$MVN" test "$@"
    "$root/bin/consumer.sh" ;;
  consumer)   need_maven; "$root/bin/consumer.sh" ;;
  install)
    need_maven
    "$MVN" -q -pl engine -am install -DskipTests "$@"
    echo "vecopt: installed dev.vecopt:vecopt-engine:0.1.0-SNAPSHOT (with -sources and -javadoc jars) into your local Maven repository" >&2 ;;
  test-long) # the property suites again and again with fresh random seeds: ./vecopt test-long [rounds, default 10]
    need_maven
    rounds=${1:-10}
    for ((i = 1; i <= rounds; i++)); do
      echo "vecopt: property round $i of $rounds" >&2
      "$MVN" -q -pl verification -am test -Dtest='*Properties' -Dsurefire.failIfNoSpecifiedTests=false || exit 1
    done
    echo "vecopt: $rounds rounds of properties passed" >&2
    echo "vecopt: checkpoint kill soak ($((rounds * 6)) kills)" >&2
    "$MVN" -q -pl verification -am test -Dtest=CheckpointKillTest -Dvecopt.checkpoint.kills=$((rounds * 6)) \
      -Dsurefire.failIfNoSpecifiedTests=false || exit 1
    # ZeRO over Gloo: two rank JVMs, one killed at a random step or moment again and again, resumed from the sharded
    # checkpoints, ending bitwise the uninterrupted run (excluded from ./vecopt test by the spark module's pom)
    echo "vecopt: sharded training kill soak ($((rounds * 2)) kills)" >&2
    "$MVN" -q -pl spark -am test -Dtest=ZeroKillSoakTest -Dvecopt.zero.kills=$((rounds * 2)) \
      -Dsurefire.failIfNoSpecifiedTests=false || exit 1 ;;
  schedules)  run_java examples vecopt.examples.ScheduleChart "$@" ;;
  # GOMP_SPINCOUNT: the native peer's OpenMP threads spin briefly, then sleep, as the engine's pool does; libgomp's
  # default long spin made 2 threads 10-30x slower than 1 on a loaded 2-core machine (JMH forks inherit it).
  bench)      export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-1000}; run_java bench vecopt.bench.BenchMain "$@" ;;
  compare)    run_java bench vecopt.bench.Compare "$@" ;;
  # PyTorch's OpenMP threads sleep when idle instead of spinning against vecopt's pool; one thread each by default.
  djl-compare) export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
              run_java djl vecopt.djl.measure.StepComparison "$@" ;;
  chart)      run_java bench vecopt.bench.ChartMain "$@" ;;
  # The training comparisons: PyTorch on one thread by default (repeatable numbers), its idle threads asleep.
  large-batch) export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
              run_java djl vecopt.djl.train.LargeBatchMain "$@" ;;
  mixed-precision) export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
              run_java djl vecopt.djl.train.MixedPrecisionMain "$@" ;;
  schedule-free) export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
              run_java djl vecopt.djl.train.ScheduleFreeMain "$@" ;;
  checkpoint) run_java examples vecopt.examples.CheckpointTool "$@" ;;
  spark-train) run_spark vecopt.spark.train.SparkTrain "$@" ;;
  spark-measure) run_spark vecopt.spark.measure.ScaleOutMeasure "$@" ;;
  help|-h|--help)
    cat <<'HELP'
usage: ./vecopt [command] [args]
  train          the main job, and what ./vecopt alone runs: a small GPT-style transformer (DJL, PyTorch
                 engine) trained with vecopt's AdamW under seven warmup/decay/clipping/LayerNorm recipes;
                 table + chart in out/ (train --help)
  quickstart     the smallest vecopt program: AdamW, warmup + cosine lr, gradient clipping, a few steps
  state-error    AdamW with float32, bfloat16 and 8-bit state on one noisy problem: how far compressed state moves a run
  test           the test suite, then the consumer check (what CI runs; Maven options pass through)
  consumer       the consumer check alone: a separate Maven project (consumer/) built against the installed
                 engine jar, run on the class path and on the module path
  install        installs the engine jar (with sources and javadoc) into your local Maven repository
  test-long [n]  the property suites n more times (default 10) with fresh random seeds, then a checkpoint
                 kill soak of 6n kills and a sharded-training (ZeRO over Gloo) kill soak of 2n kills
  schedules      tabulate and plot learning-rate schedules (--help for options)
  bench          JMH benchmarks: --quick (headline, < 3 min), or the suite with JMH options; report FILE.json
  compare        compare two JMH JSON results, or one against a baseline of ratios (--help: exit codes)
  chart          chart of a JMH JSON result: throughput vs size per kernel, ceilings as lines (SVG + PNG)
  checkpoint     checkpoint files: inspect FILE prints what a checkpoint holds, checksums verified
  djl-compare    optimizer time per step of DJL's Adam vs vecopt's AdamW through the DJL bridge, same model and
                 batches, and the whole training step (--threads 1,2 --torch-threads 1 --hidden 1024 --layers 3)
  spark-train    data-parallel training of a small MLP on Spark (local-cluster, 2 executor JVMs) with the
                 optimizer state sharded (ZeRO-1) over Gloo: state per rank, time per phase, loss next to one
                 process (--master local[2] --ranks 2 --steps 150 --batch 64 --hidden 1024)
  spark-measure  the sharded step's phases for 16M and 64M parameters on 2 ranks over Gloo (loopback), one
                 process's step, the loopback's bandwidth, and the projection to 8 and 64 ranks [sizes...]
  large-batch    the main job's model at one budget of sequences, batch 8 vs 8k under the linear scaling rule,
                 with/without warmup: AdamW vs LAMB, SGD-momentum vs LARS (--multipliers 8,16; --sweep: base lrs)
  mixed-precision  the main job's warmup recipe with a bf16 optimizer side emulated at the DJL bridge: bf16
                 gradients, bf16 params + fp32 master, stochastic rounding, bf16 state (--mixes ...)
  schedule-free  the main job's AdamW recipe (warmup + cosine) against schedule-free AdamW (warmup only, no
                 schedule, evaluated at its average x) at a few lrs; a mid-run checkpoint resumed bitwise (--lrs ...)
  help           this text
A command builds what it needs first, and only when a pom or a source changed since its last build.
HELP
    ;;
  *) echo "vecopt: unknown command '$cmd' (try ./vecopt help)" >&2; exit 2 ;;
esac
