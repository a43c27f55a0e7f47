/**
 * The wire protocol, generated from {@code meshwork/wire.proto} at build time: one
 * {@link dev.meshwork.api.wire.Frame} per transport message.
 *
 * <p>2.0.0 is protocol version 2: the unused {@code Sync} frame is gone, failures travel as the
 * {@link dev.meshwork.api.wire.FailureCode} enum (on {@code Ack}), and {@code Goodbye} has typed
 * refusals of a key or a version.
 *
 * <p>{@link dev.meshwork.api.wire.WireConstants} holds the protocol version and the helpers every
 * implementation must agree on (the hello transcript that is signed).
 */
@Export
@Version("2.0.0")
package dev.meshwork.api.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
