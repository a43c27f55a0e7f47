/**
 * The wire protocol, generated from {@code meshwork/wire.proto} at build time: one
 * {@link dev.meshwork.api.wire.Frame} per transport message.
 *
 * <p>2.0.0 is protocol version 2: the unused {@code Sync} frame is gone, failures travel as the
 * {@link dev.meshwork.api.wire.FailureCode} enum (on {@code Ack}), and {@code Goodbye} has typed
 * refusals of a key or a version. {@link dev.meshwork.api.wire.HandshakePayload} is the payload
 * of the secure channel's Noise handshake that certifies a node's static key with its Ed25519
 * identity (docs/protocol.md); {@link dev.meshwork.api.wire.EnvelopeBody} and
 * {@link dev.meshwork.api.wire.AckBody} are the signed parts of relayed traffic. {@code Hello} and
 * {@code HelloAck} remain only so a v2 node can recognise and refuse a v1 peer.
 *
 * <p>{@link dev.meshwork.api.wire.WireConstants} holds the protocol version and the helpers every
 * implementation must agree on.
 */
@Export
@Version("2.0.0")
package dev.meshwork.api.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
