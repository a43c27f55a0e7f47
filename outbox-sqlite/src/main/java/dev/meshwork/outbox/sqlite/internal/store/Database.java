package dev.meshwork.outbox.sqlite.internal.store;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * Opens the outbox's SQLite file in WAL mode and brings its schema up to date.
 *
 * <p>Why it checks before it writes: a database from a newer Meshwork, a corrupt file or a
 * read-only file must be refused with a clear message and left exactly as it was, so the
 * version is read (a read only) before WAL mode or any migration touches the file.
 *
 * <p>One owner per file: {@link OwnerLock} refuses a second process (or a second outbox in
 * this one) before anything is read, so two drains never send the same rows.
 *
 * <p>Migrations are numbered by {@code PRAGMA user_version}; each runs in one transaction with
 * the version bump, so a crash during a migration leaves the old version intact.
 */
public final class Database implements AutoCloseable {

    /** The schema version this code writes. */
    public static final int SCHEMA_VERSION = 1;

    private static final List<String> MIGRATION_1 = List.of(
            """
            CREATE TABLE outbox (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              target TEXT NOT NULL,
              topic TEXT NOT NULL,
              payload BLOB NOT NULL,
              state TEXT NOT NULL,
              attempts INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              next_attempt_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL,
              last_error TEXT,
              idem_key TEXT,
              fingerprint BLOB,
              priority INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX outbox_claim ON outbox(state, target, priority DESC, seq)",
            "CREATE UNIQUE INDEX outbox_idem ON outbox(idem_key) WHERE idem_key IS NOT NULL",
            """
            CREATE TABLE inbox (
              message_id TEXT PRIMARY KEY,
              source TEXT NOT NULL,
              received_at INTEGER NOT NULL,
              delivered INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID""",
            "CREATE INDEX inbox_age ON inbox(received_at)",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");

    private final Path file;
    private final Connection writer;
    private final Connection reader;
    private final String epoch;
    private final OwnerLock owner;

    private Database(Path file, Connection writer, Connection reader, String epoch, OwnerLock owner) {
        this.owner = owner;
        this.file = file;
        this.writer = writer;
        this.reader = reader;
        this.epoch = epoch;
    }

    /**
     * Opens (creating if absent) and migrates the database.
     *
     * @param synchronous      {@code FULL} or {@code NORMAL}
     * @param maxDatabaseBytes a size limit enforced by SQLite ({@code SQLITE_FULL} beyond it); 0: none
     * @throws PermanentException {@code STORAGE_UNAVAILABLE} with a one-line reason naming the file
     */
    public static Database open(Path file, String synchronous, long maxDatabaseBytes) {
        if (!synchronous.equals("FULL") && !synchronous.equals("NORMAL")) {
            throw new PermanentException(FailureCode.MALFORMED_URL, "synchronous must be FULL or NORMAL, not '" + synchronous + "'");
        }
        Path parent = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (java.io.IOException e) {
            throw unavailable(file, "cannot create its directory " + parent + ": " + e.getMessage(), e);
        }
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw unavailable(file, "is read-only", null);
        }
        // Before SQLite touches the file: a second owner must not even recover its in-flight rows.
        OwnerLock owner = OwnerLock.acquire(file);
        Connection w = null;
        Connection r = null;
        try {
            w = connect(file, synchronous);
            int version = userVersion(w);
            if (version > SCHEMA_VERSION) {
                throw unavailable(file, "was written by a newer Meshwork (schema version " + version
                        + ", this one knows up to " + SCHEMA_VERSION + "); refusing to open it and leaving it untouched", null);
            }
            try (Statement s = w.createStatement()) {
                try (ResultSet rs = s.executeQuery("PRAGMA journal_mode=WAL")) {
                    rs.next();
                    if (!"wal".equalsIgnoreCase(rs.getString(1))) {
                        throw unavailable(file, "cannot switch to WAL mode (got " + rs.getString(1) + ")", null);
                    }
                }
                s.execute("PRAGMA synchronous=" + synchronous);
                if (maxDatabaseBytes > 0) {
                    long pageSize;
                    try (ResultSet rs = s.executeQuery("PRAGMA page_size")) {
                        rs.next();
                        pageSize = rs.getLong(1);
                    }
                    s.execute("PRAGMA max_page_count=" + Math.max(1, maxDatabaseBytes / pageSize));
                }
            }
            migrate(w, version, file);
            String epoch = loadEpoch(w);
            w.setAutoCommit(false);
            r = connect(file, synchronous);
            try (Statement s = r.createStatement()) {
                s.execute("PRAGMA query_only=1");
            }
            return new Database(file, w, r, epoch, owner);
        } catch (SQLException e) {
            closeQuietly(r);
            closeQuietly(w);
            owner.close();
            throw new PermanentException(FailureCode.STORAGE_UNAVAILABLE,
                    "cannot open outbox database " + file + ": " + StorageErrors.map(e, file.toString()).getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(r);
            closeQuietly(w);
            owner.close();
            throw e;
        }
    }

    private static Connection connect(Path file, String synchronous) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(10_000);
        // No journal/synchronous pragmas here: they would be applied at open, before the version
        // check, and journal_mode=WAL writes the file header.
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
        return ds.getConnection();
    }

    private static int userVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void migrate(Connection c, int from, Path file) throws SQLException {
        if (from >= SCHEMA_VERSION) {
            return;
        }
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            if (from < 1) {
                for (String sql : MIGRATION_1) {
                    s.execute(sql);
                }
                byte[] random = new byte[6];
                new SecureRandom().nextBytes(random);
                s.execute("INSERT INTO meta(key, value) VALUES ('epoch', '" + HexFormat.of().formatHex(random) + "')");
            }
            s.execute("PRAGMA user_version=" + SCHEMA_VERSION);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static String loadEpoch(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE key = 'epoch'")) {
            if (!rs.next()) {
                throw new SQLException("meta table has no epoch");
            }
            return rs.getString(1);
        }
    }

    private static PermanentException unavailable(Path file, String what, Throwable cause) {
        return new PermanentException(FailureCode.STORAGE_UNAVAILABLE, "outbox database " + file + " " + what, cause);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already failing; the first error is the one reported
            }
        }
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** The connection owned by the single writer thread (auto-commit off). */
    Connection writerConnection() {
        return writer;
    }

    /** A read-only connection; callers synchronise on it. */
    public Connection reader() {
        return reader;
    }

    /**
     * Random per database file: message ids are {@code epoch-seq}, unique across files even if a
     * file is deleted and recreated (the receiver's inbox would otherwise drop new messages).
     */
    public String epoch() {
        return epoch;
    }

    @Override
    public void close() {
        synchronized (reader) {
            closeQuietly(reader);
        }
        closeQuietly(writer);
        owner.close();
    }
}
