package dev.meshwork.console.internal;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One dashboard's server-sent event stream: the status document, pushed on an interval until
 * the browser goes away (a failed write ends the stream and its timer). A failure to build the
 * document is the console's, not the browser's: it is logged and counted ({@link GuardedTask})
 * and the next push tries again.
 */
final class EventStream {

    private final HttpExchange exchange;
    private final ScheduledExecutorService scheduler;
    private final int intervalMillis;
    private final Supplier<String> document;
    private ScheduledFuture<?> timer;
    private OutputStream out;

    private final AtomicLong failures;

    EventStream(HttpExchange exchange, ScheduledExecutorService scheduler, int intervalMillis, Supplier<String> document,
            AtomicLong failures) {
        this.failures = failures;
        this.exchange = exchange;
        this.scheduler = scheduler;
        this.intervalMillis = Math.max(100, intervalMillis);
        this.document = document;
    }

    void start() throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        out = exchange.getResponseBody();
        timer = scheduler.scheduleWithFixedDelay(new GuardedTask("event stream", failures, this::push), 0, intervalMillis,
                TimeUnit.MILLISECONDS);
    }

    private synchronized void push() {
        byte[] event = ("data: " + document.get() + "\n\n").getBytes(StandardCharsets.UTF_8);
        try {
            out.write(event);
            out.flush();
        } catch (IOException e) { // the browser went away: the stream's normal end
            timer.cancel(false);
            exchange.close();
        }
    }
}
