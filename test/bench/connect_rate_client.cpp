// New-connection load generator for sk_lookup_bench.sh: keeps --concurrency
// non-blocking connects in flight to one address; each connection is waited on
// until the server closes it (accept-and-close server), then closed and
// replaced. The server closes first, so TIME_WAIT stays on the server side and
// the client's ephemeral ports do not run out.
//
//   connect_rate_client --target IP:PORT [--source IP] [--seconds S] [--concurrency C]
//
// --source binds every socket to that address first (port chosen at connect,
// IP_BIND_ADDRESS_NO_PORT): contenders given different source addresses never
// meet each other's TIME_WAIT sockets or conntrack entries.
//
// Prints one line: "connections <n> failures <f> seconds <s> rate <conn/s>".
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

namespace {

double now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"new TCP connections per second against an accept-and-close server"};
    std::string target, source;
    double seconds = 5;
    unsigned concurrency = 32;
    app.add_option("--target", target, "IP:PORT")->required();
    app.add_option("--source", source, "source IPv4 address");
    app.add_option("--seconds", seconds);
    app.add_option("--concurrency", concurrency);
    CLI11_PARSE(app, argc, argv);

    const auto colon = target.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    if (colon == std::string::npos || inet_pton(AF_INET, target.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
        std::fprintf(stderr, "connect_rate_client: bad --target %s\n", target.c_str());
        return 2;
    }
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoul(target.substr(colon + 1))));
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (!source.empty() && inet_pton(AF_INET, source.c_str(), &from.sin_addr) != 1) {
        std::fprintf(stderr, "connect_rate_client: bad --source %s\n", source.c_str());
        return 2;
    }

    const int ep = epoll_create1(0);
    std::uint64_t done = 0, failures = 0;
    auto start_one = [&]() {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) return false;
        if (!source.empty()) {
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
            if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
                ++failures;
                close(fd);
                return false;
            }
        }
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
            ++failures;
            close(fd);
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;  // readable at EOF: the server closed
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        return true;
    };
    const double start = now();
    unsigned in_flight = 0;
    for (unsigned i = 0; i < concurrency; ++i) in_flight += start_one() ? 1 : 0;
    epoll_event events[256];
    while (now() - start < seconds) {
        const int n = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            char buf[64];
            const ssize_t got = read(fd, buf, sizeof(buf));
            if (err == 0 && got == 0) ++done;  // connected, then the server closed
            else ++failures;
            close(fd);
            --in_flight;
        }
        while (in_flight < concurrency && now() - start < seconds) in_flight += start_one() ? 1 : 0;
    }
    const double took = now() - start;
    std::printf("connections %llu failures %llu seconds %.3f rate %.0f\n", static_cast<unsigned long long>(done),
                static_cast<unsigned long long>(failures), took, static_cast<double>(done) / took);
    return 0;
}
