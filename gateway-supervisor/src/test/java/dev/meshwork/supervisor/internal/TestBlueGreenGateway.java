package dev.meshwork.supervisor.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A gateway for the blue/green process test: listens on args[0] and answers every connection
 * with {@code ok PORT}; appends {@code LISTENING PORT} and, on SIGTERM, {@code TERM PORT} to the
 * shared file args[1], so the test sees the order of the two generations' events. If the file
 * args[2] exists at start-up it never listens (a green that fails readiness).
 */
public final class TestBlueGreenGateway {

    private TestBlueGreenGateway() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path events = Path.of(args[1]);
        if (Files.exists(Path.of(args[2]))) {
            System.out.println("refusing to listen on " + port + ": told to fail");
            System.out.flush();
            Thread.currentThread().join(); // hangs until killed
        }
        ServerSocket server = new ServerSocket(port, 200, InetAddress.getLoopbackAddress());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            append(events, "TERM " + port);
            try {
                server.close();
            } catch (IOException e) {
                // exiting anyway
            }
        }));
        append(events, "LISTENING " + port);
        System.out.println("READY on " + port);
        System.out.flush();
        byte[] answer = ("ok " + port + "\n").getBytes(StandardCharsets.US_ASCII);
        while (true) {
            try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                out.write(answer);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private static synchronized void append(Path file, String line) {
        try {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot write " + file + ": " + e);
        }
    }
}
