import Foundation

/// The one timestamp format used in messages and CLI output, so operators can
/// compare what `altsctl` prints with `openssl x509 -dates` at a glance.
public enum ISO8601Time {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
