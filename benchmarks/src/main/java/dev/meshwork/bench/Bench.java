package dev.meshwork.bench;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entry point of {@code ./bench NAME}: runs one named benchmark, or lists them.
 *
 * <p>A benchmark is a class {@code dev.meshwork.bench.<Name>Bench} with a {@code main}; it prints
 * a table and, as its last line, {@code RESULT <name> key=value …}.
 */
public final class Bench {

    static final Map<String, String> BENCHMARKS = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("transport", "WebSocket transport: stream rate vs bare Netty, the encrypted stream vs bare Netty over TLS 1.3, the secure handshake, echo vs Node.js ws, idle cost per connection (ARGS: stream [ROUNDS] | secure [ROUNDS] | echo [SECONDS [CONNECTIONS]] | idle [CONNECTIONS] for one part)");
        BENCHMARKS.put("failover", "three nodes as processes: black-holed and closed channels, loss, duplicates, false failovers");
        BENCHMARKS.put("outbox", "SQLite outbox: durable enqueue vs raw JDBC, end to end between processes, recovery after kill -9");
        BENCHMARKS.put("health", "health CRDT: propagation p99, bytes per event vs Automerge, catch-up");
        BENCHMARKS.put("crash", "two packaged nodes SIGKILLed/SIGTERMed on a seeded schedule under load: lost, dead, duplicates, recovery (ARGS: [SECONDS [SEED]])");
        BENCHMARKS.put("relay", "messages per second through one relay, authenticated end to end, against direct (ARGS: [SECONDS [ROUNDS [WINDOW]]])");
        BENCHMARKS.put("supervisor", "gateway supervisor: respawn and readiness overhead, idle cost of 50 processes");
    }

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !BENCHMARKS.containsKey(args[0])) {
            if (args.length > 0) {
                System.err.println("unknown benchmark '" + args[0] + "'");
            }
            System.out.println("usage: ./bench NAME [ARGS…]   benchmarks:");
            BENCHMARKS.forEach((name, text) -> System.out.printf("  %-11s %s%n", name, text));
            System.exit(args.length == 0 ? 0 : 2);
        }
        String name = args[0];
        String className = "dev.meshwork.bench." + Character.toUpperCase(name.charAt(0)) + name.substring(1) + "Bench";
        Class<?> type;
        try {
            type = Class.forName(className);
        } catch (ClassNotFoundException e) {
            System.err.println("benchmark '" + name + "' is not written yet (" + className + ")");
            System.exit(3);
            return;
        }
        Method main = type.getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
