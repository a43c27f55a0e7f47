package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.OriginSnapshot;
import dev.meshwork.health.internal.sync.SyncCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Persists the health document in one file, atomically: written to a temporary file beside it,
 * forced to disk, then renamed over the old one, so a crash leaves either the old or the new
 * state. A file that fails its checksum or does not parse is moved aside with a warning and the
 * node starts empty (it rebuilds from its peers).
 *
 * <p>Format: {@code "MWHS"}, version byte 1, CRC-32 of the body (4 bytes, big-endian), body
 * length (4 bytes), body ({@code StateFile} protobuf).
 */
public final class StateStore {

    private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);
    private static final byte[] MAGIC = {'M', 'W', 'H', 'S'};
    private static final int HEADER = MAGIC.length + 1 + 4 + 4;

    private final Path file;

    public StateStore(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /**
     * @return the persisted fragments; empty when there is no file or it was corrupt (moved aside)
     * @throws UncheckedIOException when the file exists but cannot be read
     */
    public Optional<List<Fragment>> load() {
        return loadState().map(SyncCodec.State::fragments);
    }

    /**
     * @return the persisted state with the node that wrote it; empty when there is no file or it
     *         was corrupt (moved aside)
     * @throws UncheckedIOException when the file exists but cannot be read
     */
    public Optional<SyncCodec.State> loadState() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read health state " + file + ": " + e.getMessage(), e);
        }
        try {
            return Optional.of(decodeFile(bytes));
        } catch (SyncCodec.MalformedSyncException | IllegalArgumentException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
            try {
                Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException moveFailure) {
                throw new UncheckedIOException("corrupt health state " + file + " cannot be moved aside: "
                        + moveFailure.getMessage(), moveFailure);
            }
            LOG.warn("health state {} is corrupt ({}); moved it to {} and starting empty: the document is rebuilt from peers",
                    file, e.getMessage(), aside);
            return Optional.empty();
        }
    }

    static List<Fragment> decode(byte[] bytes) throws SyncCodec.MalformedSyncException {
        return decodeFile(bytes).fragments();
    }

    static SyncCodec.State decodeFile(byte[] bytes) throws SyncCodec.MalformedSyncException {
        if (bytes.length < HEADER || !Arrays.equals(Arrays.copyOf(bytes, 4), MAGIC) || bytes[4] != 1) {
            throw new IllegalArgumentException("not a health state file (bad header)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, 5, 8);
        int crc = b.getInt();
        int length = b.getInt();
        if (length != bytes.length - HEADER) {
            throw new IllegalArgumentException("length " + length + " does not match the file (" + (bytes.length - HEADER) + ")");
        }
        CRC32 c = new CRC32();
        c.update(bytes, HEADER, length);
        if ((int) c.getValue() != crc) {
            throw new IllegalArgumentException("checksum mismatch");
        }
        return SyncCodec.decodeStateFile(Arrays.copyOfRange(bytes, HEADER, bytes.length));
    }

    /** Writes the state atomically (temp file, fsync, rename). */
    public void save(NodeId node, Iterable<OriginSnapshot> origins) throws IOException {
        byte[] body = SyncCodec.encodeState(node, origins);
        CRC32 c = new CRC32();
        c.update(body);
        ByteBuffer out = ByteBuffer.allocate(HEADER + body.length);
        out.put(MAGIC).put((byte) 1).putInt((int) c.getValue()).putInt(body.length).put(body).flip();
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // make the rename itself durable (not supported everywhere; best effort)
        } catch (IOException | UnsupportedOperationException ignored) {
            // some file systems refuse to open a directory; the rename is still atomic
        }
    }
}
