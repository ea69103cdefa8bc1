package vecopt.spark;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.collection.Iterator;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import vecopt.zero.Communicator;
import vecopt.zero.GlooCommunicator;
import vecopt.zero.GlooStore;

/**
 * A data-parallel training loop as one long-lived Spark barrier stage (Spark's barrier execution mode, Spark 2.4
 * and later): {@code ranks} tasks, gang-scheduled (all start together or none does) and restarted together when one
 * fails, each running {@link RankTask#run} with rank = its partition id and a {@link Communicator} to its peers.
 *
 * <p><b>Failure.</b> When a task fails (an exception, its executor killed), Spark kills the other tasks of the stage
 * and runs the whole stage again, all ranks, with a new rendezvous (Spark's barrier execution mode; at most
 * {@code spark.stage.maxConsecutiveAttempts} attempts, default 4, then the job fails). A task learns which attempt it
 * is in from {@code BarrierTaskContext.get().stageAttemptNumber()}; a loop that resumes from
 * {@link vecopt.zero.ShardedCheckpoints} at its start continues from the last complete save.
 *
 * <p>The stage meets through Spark once, at start: rank 0 starts Gloo's rendezvous store on a port the system picks
 * ({@link GlooStore}), and one {@code BarrierTaskContext.allGather} tells every task where it is (each {@code barrier()}/{@code allGather()}
 * of Spark costs about a second, fine once, useless per step). From then on every step's data moves over Gloo
 * ({@link GlooCommunicator}), never through Spark.
 *
 * <pre>{@code
 * List<float[]> finals = BarrierStage.run(sparkContext, 2, Duration.ofSeconds(60), comm -> {
 *     // build the model replica, then: try (ZeroStep zero = ZeroStep.create(model, comm, ...)) { ... }
 *     return finalParams;
 * });
 * }</pre>
 */
public final class BarrierStage {
    private BarrierStage() {
    }

    /** What each rank runs; serialized to the executors with its captured values. */
    @FunctionalInterface
    public interface RankTask<R extends Serializable> extends Serializable {
        R run(Communicator comm) throws Exception;
    }

    /**
     * Runs {@code task} on {@code ranks} barrier tasks and returns their results in rank order.
     *
     * @param timeout how long a collective waits for its peers (Gloo's timeout) before the task fails
     * @throws IllegalArgumentException for {@code ranks < 1} or a timeout that is not positive, before any job starts
     */
    public static <R extends Serializable> List<R> run(SparkContext sc, int ranks, Duration timeout,
                                                       RankTask<R> task) {
        if (sc == null) {
            throw new IllegalArgumentException("sc must not be null");
        }
        if (ranks < 1) {
            throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (task == null) {
            throw new IllegalArgumentException("task must not be null");
        }
        List<Integer> ids = new ArrayList<>(ranks);
        for (int r = 0; r < ranks; r++) {
            ids.add(r);
        }
        RDD<Integer> rdd = JavaSparkContext.fromSparkContext(sc).parallelize(ids, ranks).rdd();
        // Not RDDBarrier.mapPartitionsWithEvaluator: it does not create a barrier stage.
        RDD<Object> stage = rdd.barrier().mapPartitions(new Rank<>(ranks, timeout.toMillis(), task), false,
                ClassTag$.MODULE$.apply(Object.class));
        // The shuffle after it makes the barrier stage a shuffle-map stage: Spark resubmits a failed barrier
        // shuffle-map stage as a whole (every task again, up to spark.stage.maxConsecutiveAttempts times, default 4)
        // but aborts the job when a barrier result stage fails (DAGScheduler.handleTaskCompletion, Spark 4.2).
        List<Object> collected = new JavaRDD<>(stage, ClassTag$.MODULE$.apply(Object.class)).repartition(1).collect();
        @SuppressWarnings("unchecked")
        R[] out = (R[]) new Serializable[ranks];
        for (Object o : collected) {
            Ranked<?> r = (Ranked<?>) o;
            @SuppressWarnings("unchecked")
            R result = (R) r.result();
            out[r.rank()] = result;
        }
        return List.of(out);
    }

    /** A rank's result and the rank, as it travels through the shuffle (which does not keep the order). */
    private record Ranked<R extends Serializable>(int rank, R result) implements Serializable {
    }

    /** One barrier task: the rendezvous, the communicator, the rank's task. */
    private static final class Rank<R extends Serializable> extends AbstractFunction1<Iterator<Integer>, Iterator<Object>>
            implements Serializable {
        private final int ranks;
        private final long timeoutMillis;
        private final RankTask<R> task;

        Rank(int ranks, long timeoutMillis, RankTask<R> task) {
            this.ranks = ranks;
            this.timeoutMillis = timeoutMillis;
            this.task = task;
        }

        @Override
        public Iterator<Object> apply(Iterator<Integer> partition) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            String host = host(ctx.getTaskInfos()[rank].address());
            // Rank 0 binds Gloo's store first, on a port the system picks, and the one rendezvous through Spark
            // tells everyone where it is: no port is chosen free and bound later (another process could take it).
            GlooStore store = rank == 0 ? GlooStore.bind(host, ranks, Duration.ofMillis(timeoutMillis)) : null;
            String[] all;
            try {
                all = ctx.allGather(host + " " + (store == null ? 0 : store.port()));
            } catch (RuntimeException | Error e) {
                if (store != null) {
                    store.close();
                }
                throw e;
            }
            String[] zero = all[0].split(" ");
            Duration timeout = Duration.ofMillis(timeoutMillis);
            try (GlooCommunicator comm = store != null ? GlooCommunicator.connect(store, host, ranks, timeout)
                    : GlooCommunicator.connect(zero[0], Integer.parseInt(zero[1]), host, rank, ranks, timeout)) {
                R result = task.run(comm);
                return scala.collection.Iterator$.MODULE$.single(new Ranked<>(rank, result));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("rank " + rank + " of " + ranks + " failed: " + e, e);
            }
        }
    }

    /** The host part of a task's address ("host:port", or a bare host). */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
    }

}
