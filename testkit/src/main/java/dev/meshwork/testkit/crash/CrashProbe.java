package dev.meshwork.testkit.crash;

import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Hashtable;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * The receiving handler of the crash suite, as a tiny bundle dropped into a packaged node's
 * {@code --bundles} directory: a {@link MessageHandler} on {@value #TOPIC} that appends one line
 * per completed invocation, {@code INCARNATION MESSAGE_ID PAYLOAD}, to {@value #LOG} in the
 * node's data directory.
 *
 * <p>Why a file and not the console's probe: the console counts in memory, and the suite SIGKILLs
 * the receiver; every handler invocation must survive that to be counted. One {@code write} per
 * line into the page cache survives the process (not the machine), which is what is killed here.
 * The incarnation (random per bundle start) tells a duplicate within one run of the receiver from
 * a redelivery across its crash.
 */
public final class CrashProbe implements BundleActivator, MessageHandler {

    public static final String TOPIC = "meshwork.crash.probe";
    public static final String LOG = "crash-probe.log";
    static final String BSN = "dev.meshwork.testkit.crashprobe";

    private static final Executor WORK = CompletableFuture.delayedExecutor(3, TimeUnit.MILLISECONDS);

    private final String incarnation = UUID.randomUUID().toString().substring(0, 8);
    private FileChannel out;
    private ServiceRegistration<MessageHandler> registration;

    @Override
    public void start(BundleContext context) throws IOException {
        String data = context.getProperty("meshwork.data.dir");
        out = FileChannel.open(Path.of(data == null ? "data" : data, LOG), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(MessageHandler.TOPIC, TOPIC);
        registration = context.registerService(MessageHandler.class, this, properties);
    }

    @Override
    public void stop(BundleContext context) throws IOException {
        registration.unregister();
        synchronized (this) {
            out.close();
        }
    }

    /**
     * Does a few milliseconds of "work", then records its effect and completes: as a real handler,
     * it can be killed between being called and being done, and only a completed line counts as
     * delivered.
     */
    @Override
    public CompletionStage<Void> onMessage(InboundMessage message) {
        String line = incarnation + " " + message.messageId() + " " + new String(message.payload(), StandardCharsets.UTF_8) + "\n";
        return CompletableFuture.runAsync(() -> record(line), WORK);
    }

    private synchronized void record(String line) {
        try {
            out.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes this class as a bundle jar into {@code dir}; returns the jar. */
    public static Path writeBundle(Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", BSN);
        main.putValue("Bundle-Version", "1.0.0");
        main.putValue("Bundle-Activator", CrashProbe.class.getName());
        main.putValue("Import-Package", "dev.meshwork.api,dev.meshwork.api.router,org.osgi.framework");
        String entry = CrashProbe.class.getName().replace('.', '/') + ".class";
        Path jar = Files.createDirectories(dir).resolve("crash-probe.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
                InputStream in = CrashProbe.class.getClassLoader().getResourceAsStream(entry)) {
            if (in == null) {
                throw new IOException("cannot read " + entry + " from the class path");
            }
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }
}
