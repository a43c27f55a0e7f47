/**
 * Durable, at-least-once delivery: the {@link dev.meshwork.api.outbox.Outbox} keeps messages on
 * disk until their target acknowledged them; the receiver's inbox removes duplicates.
 */
@Export
@Version("1.0.0")
package dev.meshwork.api.outbox;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
