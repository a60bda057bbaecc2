import CLibraries
import Foundation

/// The sockets libcurl asked `CurlLoop` to watch, and a way for other threads to wake the
/// loop: epoll and an eventfd on Linux (a wait costs the sockets that are ready, not the
/// number of sockets), `poll` and a pipe elsewhere.
///
/// Loop thread only, except `wake`, which any thread may call.
final class SocketWatch: @unchecked Sendable {
    #if os(Linux)
    private let epoll: Int32
    private let wakeFD: Int32
    /// The sockets in the epoll set.
    private var watched: Set<Int32> = []
    private var events = [epoll_event](repeating: epoll_event(), count: 64)

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        precondition(epoll >= 0 && wakeFD >= 0, "cannot create the HTTP thread's epoll set: errno \(errno)")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl: errno \(errno)")
    }

    deinit {
        close(wakeFD)
        close(epoll)
    }

    /// Watches `socket` for what libcurl's socket callback asked (`CURL_POLL_IN`, `_OUT`, `_INOUT`).
    func watch(_ socket: Int32, for what: Int32) {
        var mask: UInt32 = 0
        if what & Int32(CURL_POLL_IN) != 0 { mask |= EPOLLIN.rawValue }
        if what & Int32(CURL_POLL_OUT) != 0 { mask |= EPOLLOUT.rawValue }
        var event = epoll_event(events: mask, data: epoll_data_t(fd: socket))
        let known = watched.contains(socket)
        if epoll_ctl(epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0 {
            // The set and `watched` disagree (a socket closed without libcurl saying so).
            _ = epoll_ctl(epoll, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event)
        }
        watched.insert(socket)
    }

    func isWatched(_ socket: Int32) -> Bool {
        watched.contains(socket)
    }

    func unwatch(_ socket: Int32) {
        guard watched.remove(socket) != nil else { return }
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
    }

    /// Interrupts `wait` (any thread).
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Waits up to `timeout` milliseconds (-1: no limit) for a wake-up or a ready socket, and
    /// hands each ready socket to `ready` with its `CURL_CSELECT_*` flags.
    func wait(timeout: Int32, _ ready: (_ socket: Int32, _ flags: Int32) -> Void) {
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeout) }
        for index in 0..<max(0, Int(count)) {
            let event = events[index]
            let socket = event.data.fd
            if socket == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                continue
            }
            var flags: Int32 = 0
            if event.events & EPOLLIN.rawValue != 0 { flags |= Int32(CURL_CSELECT_IN) }
            if event.events & EPOLLOUT.rawValue != 0 { flags |= Int32(CURL_CSELECT_OUT) }
            if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= Int32(CURL_CSELECT_ERR) }
            ready(socket, flags)
        }
    }
    #else
    private var pipeFDs: [Int32] = [-1, -1]
    /// The sockets watched and their `poll` events.
    private var watched: [Int32: Int16] = [:]

    init() {
        precondition(pipe(&pipeFDs) == 0, "cannot create the HTTP thread's wake-up pipe: errno \(errno)")
        for fd in pipeFDs { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        for fd in pipeFDs { close(fd) }
    }

    func watch(_ socket: Int32, for what: Int32) {
        var mask: Int16 = 0
        if what & Int32(CURL_POLL_IN) != 0 { mask |= Int16(POLLIN) }
        if what & Int32(CURL_POLL_OUT) != 0 { mask |= Int16(POLLOUT) }
        watched[socket] = mask
    }

    func isWatched(_ socket: Int32) -> Bool {
        watched[socket] != nil
    }

    func unwatch(_ socket: Int32) {
        watched[socket] = nil
    }

    func wake() {
        var one: UInt8 = 1
        _ = write(pipeFDs[1], &one, 1)
    }

    func wait(timeout: Int32, _ ready: (_ socket: Int32, _ flags: Int32) -> Void) {
        var fds = [pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)]
        fds += watched.map { pollfd(fd: $0.key, events: $0.value, revents: 0) }
        guard poll(&fds, nfds_t(fds.count), timeout) > 0 else { return }
        var drain = [UInt8](repeating: 0, count: 64)
        while fds[0].revents != 0, read(pipeFDs[0], &drain, drain.count) > 0 {}
        for entry in fds.dropFirst() where entry.revents != 0 {
            var flags: Int32 = 0
            if entry.revents & Int16(POLLIN) != 0 { flags |= Int32(CURL_CSELECT_IN) }
            if entry.revents & Int16(POLLOUT) != 0 { flags |= Int32(CURL_CSELECT_OUT) }
            if entry.revents & Int16(POLLERR | POLLHUP) != 0 { flags |= Int32(CURL_CSELECT_ERR) }
            ready(entry.fd, flags)
        }
    }
    #endif
}
