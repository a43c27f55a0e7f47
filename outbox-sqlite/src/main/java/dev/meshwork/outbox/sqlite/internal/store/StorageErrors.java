package dev.meshwork.outbox.sqlite.internal.store;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import java.sql.SQLException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * Turns SQLite failures into Meshwork's typed failures, so callers can tell a full disk (which
 * may clear) from a read-only or corrupt file (which will not).
 */
public final class StorageErrors {

    private StorageErrors() {
    }

    /** The typed failure for a SQLite error on {@code file}. */
    public static MeshworkException map(SQLException e, String file) {
        int primary = primaryCode(e);
        if (primary == SQLiteErrorCode.SQLITE_FULL.code) {
            return new RetryableException(FailureCode.STORAGE_FULL, "outbox database " + file + " is full: " + e.getMessage(), e);
        }
        if (primary == SQLiteErrorCode.SQLITE_READONLY.code) {
            return new PermanentException(FailureCode.STORAGE_UNAVAILABLE, "outbox database " + file + " is read-only: " + e.getMessage(), e);
        }
        if (primary == SQLiteErrorCode.SQLITE_CORRUPT.code || primary == SQLiteErrorCode.SQLITE_NOTADB.code) {
            return new PermanentException(FailureCode.STORAGE_UNAVAILABLE, "outbox database " + file + " is corrupt or not a database: " + e.getMessage(), e);
        }
        return new PermanentException(FailureCode.STORAGE_UNAVAILABLE, "outbox database " + file + " failed: " + e.getMessage(), e);
    }

    /** SQLite's primary result code (the low byte of an extended code), or -1. */
    public static int primaryCode(SQLException e) {
        if (e instanceof SQLiteException se) {
            return se.getResultCode().code & 0xff;
        }
        return e.getErrorCode() & 0xff;
    }
}
