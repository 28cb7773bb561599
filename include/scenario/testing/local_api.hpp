// A local Scenario-compatible HTTPS server: the demo's default endpoint, the tests' server and
// the benchmarks' server.

#ifndef SCENARIO_TESTING_LOCAL_API_HPP
#define SCENARIO_TESTING_LOCAL_API_HPP

#include <scenario/testing/certificate.hpp>
#include <scenario/testing/detail/server.hpp>
#include <scenario/testing/detail/service.hpp>
#include <scenario/testing/fault_plan.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scenario::testing {

/// How a `local_api` is set up.
struct local_api_options
{
    /// The API key clients must present.
    std::string api_key = "local-key";

    /// The API secret clients must present.
    std::string api_secret = "local-secret";

    /// The address to listen on: an IP address or a host name.
    std::string host = "127.0.0.1";

    /// The port to listen on; 0 picks a free one.
    std::uint16_t port = 0;

    /// How many models the public catalogue holds.
    std::size_t public_models = 1500;

    /// How many models the test account owns.
    std::size_t private_models = 40;

    /// How long a keep-alive connection may stay idle before the server closes it, without a
    /// TLS close_notify, as servers and load balancers do.
    std::chrono::milliseconds idle_timeout{30'000};

    /// The faults to inject from the first request on; none by default.
    fault_plan faults{};

    /// The certificate to serve instead of a fresh self-signed one for `localhost`,
    /// `127.0.0.1`, `::1` and `host`: an expired one, or one for another name, to see a
    /// client refuse it (`make_self_signed_certificate` makes them).
    std::optional<certificate> tls_certificate{};

    /// When set, a TLS handshake whose client names no server (SNI) or another one than this
    /// is refused with an `unrecognized_name` alert, as servers that host many names do.
    std::string required_server_name{};
};

/// A Scenario-compatible HTTPS server on loopback, serving `GET /v1/models` (and `/public`),
/// `GET` and `DELETE /v1/models/{modelId}`, `POST /v1/models` (create), `POST
/// /v1/models/get-bulk`, `PUT /v1/models/{modelId}/tags` and `GET`/`PUT
/// /v1/models/{modelId}/description` over a deterministic catalogue, with a fresh self-signed
/// certificate. It answers like the live service: `{"reason": …}` errors, `x-request-id`
/// headers, base64 `{"offset","limit"}` pagination tokens, no token on the last page,
/// non-ASCII text as `\u` escapes. It can also misbehave on purpose, as a `fault_plan` says:
/// rate limits, server errors, stalls, resets, truncated or oversized bodies, dropped
/// connections.
///
/// It serves from its own thread and io_context from construction until `stop` or
/// destruction. Every member function is thread-safe.
///
/// Without `sortBy`, listings keep the catalogue order, which the server also treats as
/// decreasing score: `sortBy=score` gives that order or, with `sortDirection=asc`, its reverse.
/// `sortDirection` alone changes nothing. The account has no unlisted models, so
/// `privacy=unlisted` lists none.
///
/// Requests may change the account's own models, never the public ones (403): their tags,
/// new models (listed after the others, `status` `new`, ids `model_` + 22 base58
/// characters), deletions (204, then 404). Changes are dated by a logical clock that starts
/// at 2026-04-20T00:00:00Z and moves a second per change, so the same requests give the same
/// answers. `get-bulk` takes at most 100 ids (the reference states no limit), answers each
/// known one once, in id order, and leaves unknown ones out. With `strict`, a tag change that
/// does not apply as asked (deleting a tag the model lacks, adding one it has) is a 400 that
/// changes nothing. `name` and `shortDescription` of a new model longer than 64 and 256
/// characters (code points) are a 400. Request-targets must be valid RFC 3986 origin-form: one with
/// an unencoded space, `|` or `{` gets 400, which is how tests catch a client's encoding slips.
class local_api
{
public:
    /// Makes the certificate and the catalogue, binds, listens and starts serving. Throws
    /// boost::system::system_error when the address cannot be bound, std::runtime_error when
    /// the certificate cannot be made, std::invalid_argument when the fault plan cannot be
    /// obeyed (an `oversized_body` of fewer than 14 bytes, a negative `delay`).
    explicit local_api(local_api_options options = {})
        : options_(std::move(options))
        , certificate_(
              options_.tls_certificate
                  ? *options_.tls_certificate
                  : make_self_signed_certificate(certificate_options_for(options_.host)))
        , service_(std::make_unique<detail::service>(
              options_.api_key, options_.api_secret, options_.public_models,
              options_.private_models, account_project_id, account_user_id))
        , server_(std::make_unique<detail::server>(
              *service_,
              detail::server_settings{
                  options_.host, options_.port, options_.idle_timeout, certificate_.certificate_pem,
                  certificate_.private_key_pem, options_.faults, options_.required_server_name}))
    {}

    local_api(local_api const&) = delete;
    local_api& operator=(local_api const&) = delete;
    local_api(local_api&&) = delete;
    local_api& operator=(local_api&&) = delete;

    /// Stops, as `stop` does.
    ~local_api()
    {
        stop();
    }

    /// The base URL clients use, `https://127.0.0.1:PORT/v1`.
    std::string base_url() const
    {
        boost::system::error_code error;
        auto const address = boost::asio::ip::make_address(options_.host, error);
        bool const bracketed = !error && address.is_v6();

        std::string url = "https://";
        url += bracketed ? "[" + options_.host + "]" : options_.host;
        url += ':';
        url += std::to_string(port());
        url += "/v1";
        return url;
    }

    /// The port the server listens on.
    std::uint16_t port() const noexcept
    {
        return server_->port();
    }

    /// The certificate, PEM, that clients must trust: unless the options gave one, it is
    /// self-signed, for `localhost`, `127.0.0.1`, `::1` and the host listened on.
    std::string const& certificate_pem() const noexcept
    {
        return certificate_.certificate_pem;
    }

    /// The API key the server accepts.
    std::string const& api_key() const noexcept
    {
        return options_.api_key;
    }

    /// The API secret the server accepts.
    std::string const& api_secret() const noexcept
    {
        return options_.api_secret;
    }

    /// The account's project: the only `projectId` requests may name (others get 403), and
    /// the `ownerId` of the private models.
    std::string const& project_id() const noexcept
    {
        return service_->models().project_id();
    }

    /// The public models as clients decode them, in the default listing order.
    std::vector<boost::json::object> public_catalogue() const
    {
        return decode(service_->models().models(detail::model_privacy::public_models));
    }

    /// The account's own models as clients decode them, in the default listing order, as
    /// requests have left them (tags changed, models created or deleted).
    std::vector<boost::json::object> private_catalogue() const
    {
        std::vector<boost::json::object> objects;
        for (auto const& model : service_->private_models())
            objects.push_back(std::move(boost::json::parse(model->row).as_object()));
        return objects;
    }

    /// Requests read so far, whatever their answer.
    std::size_t requests_received() const noexcept
    {
        return server_->requests_received();
    }

    /// TCP connections accepted so far, which is also the TLS handshakes attempted.
    std::size_t connections_accepted() const noexcept
    {
        return server_->connections_accepted();
    }

    /// Replaces the fault plan. It applies to the requests the server reads after this returns
    /// (a request already being answered keeps its fault); the numbering of requests, the hits
    /// counted against each rule's `limit` and the draws start again. Throws
    /// std::invalid_argument, keeping the old plan, when the plan cannot be obeyed. An empty
    /// plan turns faults off.
    void set_fault_plan(fault_plan plan)
    {
        server_->set_fault_plan(std::move(plan));
    }

    /// Requests answered with a fault since construction, across every plan.
    std::size_t faults_injected() const noexcept
    {
        return server_->faults_injected();
    }

    /// The last 1000 request-targets, oldest first, exactly as received (still
    /// percent-encoded), for tests of the clients' encoding.
    std::vector<std::string> received_targets() const
    {
        return server_->received_targets();
    }

    /// Stops accepting, closes every connection and joins the server's thread. Idempotent.
    void stop()
    {
        server_->stop();
    }

private:
    static constexpr char const* account_project_id = "proj_localV7kq2RZ9mTwXcEh4Jn";
    static constexpr char const* account_user_id = "user_localP3sWn8Yq5GxTb2Kd9R";

    static certificate_options certificate_options_for(std::string const& host)
    {
        certificate_options options;
        options.dns_names = {"localhost"};
        options.ip_addresses = {"127.0.0.1", "::1"};

        boost::system::error_code error;
        auto const address = boost::asio::ip::make_address(host, error);
        if (error && host != "localhost")
            options.dns_names.push_back(host);
        else if (!error && address.to_string() != "127.0.0.1" && address.to_string() != "::1")
            options.ip_addresses.push_back(address.to_string());
        return options;
    }

    static std::vector<boost::json::object> decode(
        std::vector<detail::catalogue_model> const& models)
    {
        std::vector<boost::json::object> objects;
        objects.reserve(models.size());
        for (auto const& model : models)
            objects.push_back(std::move(boost::json::parse(model.row).as_object()));
        return objects;
    }

    local_api_options options_;
    certificate certificate_;
    std::unique_ptr<detail::service> service_;
    std::unique_ptr<detail::server> server_;
};

} // namespace scenario::testing

#endif
