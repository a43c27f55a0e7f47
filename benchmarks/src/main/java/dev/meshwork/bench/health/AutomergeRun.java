package dev.meshwork.bench.health;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Replicates an event history with {@code @automerge/automerge} 3.5.0 in Node.js over the same
 * topology: after every event, every directed link runs Automerge's two-party sync protocol
 * ({@code generateSyncMessage}/{@code receiveSyncMessage}) until no link has a message. Installs
 * the package into {@code benchmarks/target/health-automerge} on first use.
 */
public final class AutomergeRun {

    static final String SCRIPT = """
            import * as A from '@automerge/automerge';
            import fs from 'node:fs';
            const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
            const docs = new Map(input.nodes.map(n => [n, A.init()]));
            const states = new Map();
            const directed = [];
            for (const [a, b] of input.links) { directed.push([a, b]); directed.push([b, a]); }
            for (const [a, b] of directed) states.set(a + '>' + b, A.initSyncState());
            let bytes = 0, messages = 0, maxRounds = 0;
            const t0 = process.hrtime.bigint();
            for (const ev of input.events) {
              docs.set(ev.origin, A.change(docs.get(ev.origin), d => {
                if (!d[ev.origin]) d[ev.origin] = [];
                d[ev.origin].push({ seq: ev.seq, at: ev.at, type: ev.type, subject: ev.subject, attributes: ev.attributes });
              }));
              let progress = true, rounds = 0;
              while (progress) {
                progress = false; rounds++;
                for (const [a, b] of directed) {
                  const [st, msg] = A.generateSyncMessage(docs.get(a), states.get(a + '>' + b));
                  states.set(a + '>' + b, st);
                  if (msg) {
                    progress = true; bytes += msg.byteLength; messages++;
                    const [nd, ns] = A.receiveSyncMessage(docs.get(b), states.get(b + '>' + a), msg);
                    docs.set(b, nd); states.set(b + '>' + a, ns);
                  }
                }
              }
              maxRounds = Math.max(maxRounds, rounds);
            }
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const heads = new Set(input.nodes.map(n => JSON.stringify(A.getHeads(docs.get(n)).sort())));
            const total = input.nodes.reduce((s, n) => s, 0);
            const count = Object.values(A.toJS(docs.get(input.nodes[0]))).reduce((s, l) => s + l.length, 0);
            console.log(JSON.stringify({ bytes, messages, ms, converged: heads.size === 1, events: count, maxRounds }));
            """;

    /** The outcome. */
    public record Result(long bytes, long messages, double millis, boolean converged, long events) {
    }

    private AutomergeRun() {
    }

    public static Result run(Path work, List<String> nodes, List<List<String>> links, List<Map<String, Object>> events)
            throws IOException, InterruptedException {
        Files.createDirectories(work);
        if (!Files.exists(work.resolve("node_modules/@automerge/automerge/package.json"))) {
            exec(work, 300, "npm", "install", "--no-audit", "--no-fund", "--silent", "@automerge/automerge@3.5.0");
        }
        Files.writeString(work.resolve("sync.mjs"), SCRIPT);
        Files.writeString(work.resolve("input.json"), Json.write(Map.of("nodes", nodes, "links", links, "events", events)));
        String out = exec(work, 1800, "node", "sync.mjs", "input.json").trim();
        String last = out.substring(out.lastIndexOf('\n') + 1);
        Map<String, String> r = Json.flatObject(last);
        return new Result(Long.parseLong(r.get("bytes")), Long.parseLong(r.get("messages")), Double.parseDouble(r.get("ms")),
                Boolean.parseBoolean(r.get("converged")), Long.parseLong(r.get("events")));
    }

    private static String exec(Path dir, int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
