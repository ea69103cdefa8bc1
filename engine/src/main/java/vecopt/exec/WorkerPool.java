package vecopt.exec;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool that runs the tasks {@code 0 .. n-1} of one job on its worker threads and the caller's thread,
 * then returns. Threads are started once; a job starts no thread and allocates nothing. Tasks are claimed from a
 * shared counter, so which thread runs which task varies from run to run: callers make results independent of that
 * by writing each task's output to its own slot and combining slots in task order.
 *
 * <p>A pool of size 1 has no workers and runs every job inline on the caller's thread.
 *
 * <pre>{@code
 * try (WorkerPool pool = new WorkerPool(2)) {
 *     double[] partial = new double[chunks];
 *     pool.run(chunks, i -> partial[i] = work(i));
 * }
 * }</pre>
 */
public final class WorkerPool implements AutoCloseable {
    /** One task of a job. Implementations should be allocated once and reused across jobs. */
    @FunctionalInterface
    public interface Task {
        void run(int index);
    }

    // A claim is one getAndIncrement of `next`, which holds the job's task count in its high 32 bits and the next
    // task index in its low 32 bits. A claim thus carries the count of the job it was made in: a worker that claimed
    // past the end of one job and is descheduled before it looks can never mistake its index for a task of the next
    // job. Between jobs the counter is 0: a job of no tasks, which nobody can claim from.
    private final Thread[] workers;
    private final AtomicLong next = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Task task;
    private volatile long generation;
    private volatile boolean closed;

    /** A pool of {@code size} threads in all (the caller counts as one), so {@code size - 1} workers. */
    public WorkerPool(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + size);
        }
        workers = new Thread[size - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "vecopt-worker-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) {
            t.start();
        }
    }

    /** Threads that run tasks, the caller included. */
    public int size() {
        return workers.length + 1;
    }

    /** The worker threads (not the caller), for checks that memory is accessible from them. */
    public Thread worker(int i) {
        return workers[i];
    }

    public int workers() {
        return workers.length;
    }

    /**
     * Runs {@code task} for every index in {@code [0, n)} and returns when all are done. If a task throws, the
     * remaining unclaimed tasks are not started and the first failure is rethrown as a {@link WorkerException}
     * with it as the cause (also when the job ran inline).
     */
    public void run(int n, Task job) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (n <= 0) {
            return;
        }
        if (workers.length == 0 || n == 1) {
            try {
                for (int i = 0; i < n; i++) {
                    job.run(i);
                }
            } catch (RuntimeException | Error e) {
                throw new WorkerException(e); // the same exception whether a task ran inline or on a worker
            }
            return;
        }
        failure.set(null);
        task = job;
        done.set(0);
        next.set((long) n << 32); // opens the job: `task` is visible to whoever claims from here on
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        work();
        int spins = 0;
        while (done.get() < n) {
            if (++spins < 10_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        next.set(0);
        task = null;
        Throwable f = failure.get();
        if (f != null) {
            throw new WorkerException(f);
        }
    }

    private void work() {
        while (true) {
            long claim = next.getAndIncrement();
            int n = (int) (claim >>> 32);
            int i = (int) claim;
            if (i >= n) {
                return;
            }
            try {
                if (failure.get() == null) {
                    task.run(i);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                done.incrementAndGet();
            }
        }
    }

    private void workerLoop() {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g != seen) {
                seen = g;
                work();
                continue;
            }
            // Steps come back to back in training: spin briefly before parking so the next job starts fast. The
            // caller writes `generation` before it unparks, so a park after the check below cannot miss a job.
            for (int i = 0; i < 2_000 && generation == seen && !closed; i++) {
                Thread.onSpinWait();
            }
            if (generation == seen && !closed) {
                LockSupport.park(this);
            }
        }
    }

    /** Stops the workers and waits for them to end. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A task of a job failed; the cause is the task's exception. */
    public static final class WorkerException extends RuntimeException {
        WorkerException(Throwable cause) {
            super("a vecopt worker task failed: " + cause, cause);
        }
    }
}
