import NIOCore

extension Channel {
    /// Turns reading on or off from the channel's own event loop. Every request toggles it,
    /// so this avoids the future `setOption` allocates and, when the value is already set,
    /// the call altogether.
    func setAutoRead(_ reading: Bool) {
        if let options = syncOptions {
            guard (try? options.getOption(ChannelOptions.autoRead)) != reading else { return }
            try? options.setOption(ChannelOptions.autoRead, value: reading)
        } else {
            setOption(ChannelOptions.autoRead, value: reading).whenFailure { _ in }
        }
    }
}
