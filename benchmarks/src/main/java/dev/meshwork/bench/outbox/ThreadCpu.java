package dev.meshwork.bench.outbox;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a process's CPU goes, by native thread name (digits folded, so {@code meshwork-ws-1-2}
 * and {@code meshwork-ws-1-1} add up), GC and JIT threads included: a coarse profile (10 ms
 * ticks) that needs no agent. CPU of threads that ended between two snapshots is the remainder.
 */
public final class ThreadCpu {

    /** CPU of producer threads, added by each producer as it ends (they are gone by the second snapshot). */
    public static final AtomicLong PRODUCERS = new AtomicLong();

    private final Map<String, Long> threads;
    private final long process;

    private ThreadCpu(Map<String, Long> threads, long process) {
        this.threads = threads;
        this.process = process;
    }

    /**
     * Every native thread of this process from {@code /proc/self/task} (so GC and JIT threads
     * count too; Java threads carry their name, cut to 15 characters), user + system CPU.
     */
    public static ThreadCpu now() {
        Map<String, Long> m = new HashMap<>();
        long tick = 10_000_000L; // USER_HZ is 100 on Linux
        try (java.nio.file.DirectoryStream<java.nio.file.Path> tasks = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/task"))) {
            for (java.nio.file.Path task : tasks) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * tick; // utime, stime
                    if (cpu > 0) {
                        m.merge(name.replaceAll("\\d+", "N"), cpu, Long::sum);
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    // the thread ended while we read
                }
            }
        } catch (java.io.IOException e) {
            // not Linux: only the process total
        }
        m.put("producers (ended)", PRODUCERS.get());
        long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        return new ThreadCpu(m, process);
    }

    /** "name=ms" by thread group since {@code before}, largest first, then the remainder; per {@code messages} in µs. */
    public String since(ThreadCpu before, long messages) {
        Map<String, Long> d = new HashMap<>();
        long sum = 0;
        for (Map.Entry<String, Long> e : threads.entrySet()) {
            long v = e.getValue() - before.threads.getOrDefault(e.getKey(), 0L);
            if (v > 0) {
                d.put(e.getKey(), v);
                sum += v;
            }
        }
        long total = process - before.process;
        StringBuilder sb = new StringBuilder(String.format("process %.0f µs/msg:", total / 1e3 / messages));
        d.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).filter(e -> e.getValue() * 100 >= total)
                .forEach(e -> sb.append(String.format(" %s=%.1f", e.getKey().replace(' ', '_'), e.getValue() / 1e3 / messages)));
        sb.append(String.format(" ended-threads/other=%.1f", (total - sum) / 1e3 / messages));
        return sb.toString();
    }
}
