package dev.meshwork.api.router;

import org.osgi.annotation.versioning.ProviderType;

/** Marks work in flight on a peer (see {@link Router#beginWork}); close it when the work is done. Idempotent. */
@ProviderType
public interface WorkToken extends AutoCloseable {

    @Override
    void close();
}
