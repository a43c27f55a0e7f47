package dev.meshwork.supervisor.internal;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** A process that listens on a port (args[0]) and accepts connections until killed: a gateway with a port. */
public final class TestPortHolder {

    private TestPortHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getLoopbackAddress())) {
            System.out.println("LISTENING on " + server.getLocalPort());
            System.out.flush();
            while (true) {
                Socket s = server.accept();
                s.close();
            }
        }
    }
}
