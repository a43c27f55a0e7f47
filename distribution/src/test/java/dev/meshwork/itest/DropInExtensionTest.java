package dev.meshwork.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;

/**
 * An extension bundle dropped into the running node's {@code bundles/} directory is picked up
 * without a restart (its Transport for {@code tcp://} appears in the registry), and removing the
 * file uninstalls it and leaves the node's own bundles running.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DropInExtensionTest {

    private static final String TCP_TRANSPORT = "(&(objectClass=dev.meshwork.api.transport.Transport)(meshwork.transport.schemes=tcp))";

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MeshworkRuntime.options(name -> true);
    }

    private boolean tcpTransportRegistered() {
        try {
            return context.getServiceReferences((String) null, TCP_TRANSPORT) != null;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    public void aDroppedInExtensionIsPickedUpLiveAndRemovedCleanly() throws Exception {
        Path dropIn = Path.of(context.getProperty("felix.fileinstall.dir"));
        Path jar = Path.of(System.getProperty("meshwork.example.jar", "target/example/example-extension.jar"));
        assertTrue("the example extension was built: " + jar, Files.isRegularFile(jar));
        assertTrue("no tcp transport before the drop-in", !tcpTransportRegistered());

        Path target = dropIn.resolve("example-extension.jar");
        Files.copy(jar, target, StandardCopyOption.REPLACE_EXISTING);
        await("the extension's tcp Transport to register", this::tcpTransportRegistered);

        Files.delete(target);
        await("the extension's tcp Transport to go away", () -> !tcpTransportRegistered());
        // the service goes when the bundle stops; FileInstall uninstalls it right after
        await("the extension to be uninstalled", () -> java.util.Arrays.stream(context.getBundles())
                .noneMatch(b -> "com.example.meshwork.tcp".equals(b.getSymbolicName())));
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName() != null && bundle.getSymbolicName().startsWith("dev.meshwork.")) {
                assertEquals(bundle.getSymbolicName() + " still active", Bundle.ACTIVE, bundle.getState());
            }
        }
    }
}
