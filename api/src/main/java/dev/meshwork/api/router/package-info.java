/**
 * The node core's contracts: the {@link dev.meshwork.api.router.Router} that moves messages to
 * peers over authenticated links, the node's {@link dev.meshwork.api.router.NodeIdentity}, and
 * the whiteboard interfaces ({@link dev.meshwork.api.router.MessageHandler},
 * {@link dev.meshwork.api.router.PeerListener}) that extensions register to take part.
 */
@Export
@Version("1.1.0")
package dev.meshwork.api.router;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
