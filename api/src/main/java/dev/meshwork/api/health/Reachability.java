package dev.meshwork.api.health;

/** How one node reaches another, as the observer last recorded it. */
public enum Reachability {
    DIRECT,
    RELAY,
    DOWN,
    UNKNOWN
}
