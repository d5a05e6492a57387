#include "model/ingress_annotations.h"

#include <cctype>
#include <charconv>
#include <map>

#include "k8s/units.h"
#include "model/ip_address.h"

namespace xgress::agent::model {
namespace {

constexpr const char* kPrefixes[] = {"xgress.io/", "nginx.ingress.kubernetes.io/"};

// Annotations that inject raw proxy configuration: never honoured (they are
// how ingress-nginx got its injection CVEs); reported so users notice.
constexpr const char* kSnippets[] = {"configuration-snippet", "server-snippet", "auth-snippet",
                                     "stream-snippet", "modsecurity-snippet"};

struct Annotations {
    const k8s::Ingress& ingress;
    std::vector<std::string>& problems;

    // The value under xgress.io/ or, failing that, nginx.ingress.kubernetes.io/.
    std::optional<std::pair<std::string, std::string>> get(const std::string& name) const {
        for (const char* prefix : kPrefixes) {
            auto it = ingress.metadata.annotations.find(prefix + name);
            if (it != ingress.metadata.annotations.end()) return std::pair{it->first, it->second};
        }
        return std::nullopt;
    }

    void report(const std::string& key, const std::string& message) const {
        problems.push_back("Ingress " + ingress.metadata.namespace_ + "/" + ingress.metadata.name +
                           ": metadata.annotations[" + key + "]: " + message);
    }

    std::optional<bool> boolean(const std::string& name) const {
        auto value = get(name);
        if (!value) return std::nullopt;
        if (value->second == "true") return true;
        if (value->second == "false") return false;
        report(value->first, "expected \"true\" or \"false\", got \"" + value->second + "\"");
        return std::nullopt;
    }

    std::optional<std::uint64_t> duration(const std::string& name) const {
        auto value = get(name);
        if (!value) return std::nullopt;
        auto ms = k8s::parse_duration_ms(value->second);
        if (!ms || *ms == 0 || *ms > 86'400'000) {
            report(value->first, "expected a duration like 60, 5s or 500ms (1 ms to 24 h), got \"" +
                                     value->second + "\"");
            return std::nullopt;
        }
        return ms;
    }
};

bool valid_redirect_url(const std::string& url) {
    if (url.empty()) return false;
    for (char c : url) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;  // no header splitting
    }
    return url.starts_with("http://") || url.starts_with("https://") || url.front() == '/';
}

// proxy-ssl-name / proxy-ssl-verify / proxy-ssl-secret (meaningful with
// backend-protocol HTTPS; ingress-nginx's names and values).
void parse_upstream_tls(const Annotations& a, RouteOptions& o) {
    if (auto value = a.get("proxy-ssl-name")) {
        const std::string& name = value->second;
        bool ok = !name.empty() && name.size() <= 253;
        for (char c : name)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':')) ok = false;
        if (ok) o.proxy_ssl_name = name;
        else a.report(value->first, "expected a DNS name or IP address, got \"" + name + "\"");
    }
    if (auto value = a.get("proxy-ssl-verify")) {
        if (value->second == "on") o.proxy_ssl_verify = true;
        else if (value->second != "off") a.report(value->first, "expected \"on\" or \"off\", got \"" + value->second + "\"");
    }
    if (auto value = a.get("proxy-ssl-secret")) {
        const std::string& ref = value->second;
        const auto slash = ref.find('/');
        const bool ok = !ref.empty() && ref.front() != '/' && ref.back() != '/' &&
                        (slash == std::string::npos || ref.find('/', slash + 1) == std::string::npos);
        if (ok) o.proxy_ssl_secret = slash == std::string::npos ? a.ingress.metadata.namespace_ + "/" + ref : ref;
        else a.report(value->first, "expected \"namespace/name\" of a Secret, got \"" + ref + "\"");
    }
}

}  // namespace

std::optional<dataplane::IpPrefix> parse_ip_prefix(const std::string& text) {
    const auto slash = text.find('/');
    auto address = parse_ip_address(text.substr(0, slash));
    if (!address) return std::nullopt;
    const unsigned max = address->v6 ? 128 : 32;
    unsigned length = max;
    if (slash != std::string::npos) {
        const std::string bits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), length);
        if (ec != std::errc{} || end != bits.data() + bits.size() || bits.empty() || length > max) return std::nullopt;
    }
    // Clear host bits so equal prefixes compare equal.
    for (unsigned bit = length; bit < max; ++bit) address->bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return dataplane::IpPrefix{*address, static_cast<std::uint8_t>(length)};
}

RouteOptions parse_route_options(const k8s::Ingress& ingress, std::vector<std::string>& problems) {
    const Annotations a{ingress, problems};
    RouteOptions o;

    for (const char* snippet : kSnippets) {
        if (auto value = a.get(snippet)) {
            a.report(value->first, "rejected: raw proxy configuration is not supported (typed annotations only); "
                                   "the annotation is ignored");
        }
    }
    o.use_regex = a.boolean("use-regex").value_or(false);
    if (auto value = a.get("rewrite-target")) {
        const std::string& target = value->second;
        bool ok = !target.empty() && target.front() == '/';
        for (std::size_t i = 0; ok && i + 1 < target.size(); ++i) {
            if (target[i] == '$' && (target[i + 1] < '0' || target[i + 1] > '9')) ok = false;
        }
        if (ok && target.back() == '$') ok = false;
        if (ok) {
            o.rewrite_target = target;
            // As in ingress-nginx: capture groups imply regular-expression paths.
            if (target.find('$') != std::string::npos) o.use_regex = true;
        } else {
            a.report(value->first, "expected a path starting with '/' (capture groups $1-$9 allowed), got \"" +
                                       target + "\"");
        }
    }
    o.ssl_redirect = a.boolean("ssl-redirect").value_or(true);
    o.force_ssl_redirect = a.boolean("force-ssl-redirect").value_or(false);
    o.ssl_passthrough = a.boolean("ssl-passthrough").value_or(false);
    if (auto value = a.get("backend-protocol")) {
        if (value->second == "HTTP") o.backend_protocol = BackendProtocol::Http;
        else if (value->second == "HTTPS") o.backend_protocol = BackendProtocol::Https;
        else if (value->second == "GRPC" || value->second == "GRPCS")
            a.report(value->first, value->second + " is not supported until HTTP/2 lands; using HTTP");
        else
            a.report(value->first, "expected HTTP or HTTPS, got \"" + value->second + "\"");
    }
    parse_upstream_tls(a, o);
    if (auto value = a.get("proxy-body-size")) {
        if (auto bytes = k8s::parse_size_bytes(value->second)) o.max_body_bytes = *bytes;
        else a.report(value->first, "expected a size like 8m, 512k or 0 (unlimited), got \"" + value->second + "\"");
    }
    o.connect_timeout_ms = a.duration("proxy-connect-timeout");
    o.read_timeout_ms = a.duration("proxy-read-timeout");
    o.send_timeout_ms = a.duration("proxy-send-timeout");
    if (auto value = a.get("affinity")) {
        if (value->second == "cookie") {
            o.affinity_cookie = "INGRESSCOOKIE";  // ingress-nginx's default name
            if (auto name = a.get("session-cookie-name")) {
                bool ok = !name->second.empty();
                for (char c : name->second) {
                    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                       c == '-' || c == '_' || c == '.';
                    ok = ok && token;
                }
                if (ok) o.affinity_cookie = name->second;
                else a.report(name->first, "not a valid cookie name: \"" + name->second + "\"");
            }
        } else {
            a.report(value->first, "expected \"cookie\", got \"" + value->second + "\"");
        }
    }
    if (auto value = a.get("whitelist-source-range")) {
        std::string list = value->second;
        std::size_t start = 0;
        while (start <= list.size()) {
            std::size_t comma = list.find(',', start);
            std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            while (!item.empty() && item.front() == ' ') item.erase(item.begin());
            while (!item.empty() && item.back() == ' ') item.pop_back();
            if (!item.empty()) {
                if (auto prefix = parse_ip_prefix(item)) o.allowed_sources.push_back(*prefix);
                else a.report(value->first, "\"" + item + "\" is not an address or CIDR prefix; entry ignored");
            }
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (auto value = a.get("upstream-hash-by")) {
        if (value->second.empty() || value->second.front() != '$')
            a.report(value->first, "expected a variable such as $request_uri or $remote_addr, got \"" +
                                       value->second + "\"");
        else
            o.upstream_hash_by = value->second;
    }
    auto redirect = [&](const char* name, std::uint16_t status) {
        auto value = a.get(name);
        if (!value) return;
        if (!valid_redirect_url(value->second)) {
            a.report(value->first, "expected an absolute http(s) URL or a path, got \"" + value->second + "\"");
            return;
        }
        if (o.redirect) {
            a.report(value->first, "ignored: another redirect annotation is already set");
            return;
        }
        o.redirect = Redirect{value->second, status};
    };
    redirect("permanent-redirect", 301);
    redirect("temporal-redirect", 302);
    if (o.redirect && o.redirect->status == 301) {
        if (auto code = a.get("permanent-redirect-code")) {
            unsigned status = 0;
            auto [end, ec] = std::from_chars(code->second.data(), code->second.data() + code->second.size(), status);
            if (ec == std::errc{} && end == code->second.data() + code->second.size() && (status == 301 || status == 302 || status == 307 || status == 308))
                o.redirect->status = static_cast<std::uint16_t>(status);
            else  // the redirect statuses with a defined Location meaning; the snapshot allows only these
                a.report(code->first, "expected 301, 302, 307 or 308, got \"" + code->second + "\"");
        }
    }
    if (auto value = a.get("app-root")) {
        if (!value->second.empty() && value->second.front() == '/' && valid_redirect_url(value->second))
            o.app_root = value->second;
        else
            a.report(value->first, "expected a path starting with '/', got \"" + value->second + "\"");
    }
    return o;
}

}  // namespace xgress::agent::model
