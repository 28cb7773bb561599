// Run-time generation of self-signed TLS certificates for the local Scenario API server and for
// tests that need expired, not-yet-valid or wrong-host certificates.

#ifndef SCENARIO_TESTING_CERTIFICATE_HPP
#define SCENARIO_TESTING_CERTIFICATE_HPP

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace scenario::testing {

/// What to put in a generated certificate. The defaults give a certificate valid from an hour
/// ago for thirty days, for `localhost` and `127.0.0.1`.
struct certificate_options
{
    /// DNS names of the subject alternative name extension.
    std::vector<std::string> dns_names = {"localhost"};

    /// IPv4 or IPv6 addresses of the subject alternative name extension, in text form.
    std::vector<std::string> ip_addresses = {"127.0.0.1"};

    /// Start of validity, relative to now; a positive value gives a not-yet-valid certificate.
    std::chrono::seconds not_before_offset{-3600};

    /// End of validity, relative to now; a negative value gives an expired certificate.
    std::chrono::seconds not_after_offset{86400 * 30};

    /// Subject and issuer common name.
    std::string common_name = "scenario-local-api";
};

/// A certificate and its private key, both PEM-encoded. The certificate is self-signed, so it
/// is also the trust anchor a client must be given.
struct certificate
{
    /// The X.509 certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    std::string certificate_pem;

    /// The unencrypted PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`).
    std::string private_key_pem;
};

namespace detail {

struct openssl_deleter
{
    void operator()(EVP_PKEY* key) const noexcept
    {
        EVP_PKEY_free(key);
    }
    void operator()(X509* x509) const noexcept
    {
        X509_free(x509);
    }
    void operator()(X509_NAME* name) const noexcept
    {
        X509_NAME_free(name);
    }
    void operator()(X509_EXTENSION* extension) const noexcept
    {
        X509_EXTENSION_free(extension);
    }
    void operator()(GENERAL_NAMES* names) const noexcept
    {
        GENERAL_NAMES_free(names);
    }
    void operator()(GENERAL_NAME* name) const noexcept
    {
        GENERAL_NAME_free(name);
    }
    void operator()(ASN1_STRING* text) const noexcept
    {
        ASN1_STRING_free(text);
    }
    void operator()(BIGNUM* number) const noexcept
    {
        BN_free(number);
    }
    void operator()(BIO* bio) const noexcept
    {
        BIO_free(bio);
    }
};

template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_deleter>;

/// Throws std::runtime_error naming the step that failed and OpenSSL's own reason, which sits
/// in the thread's error queue.
[[noreturn]] inline void throw_openssl_error(std::string_view step)
{
    std::string message = "scenario::testing: cannot make a certificate: ";
    message += step;

    unsigned long const code = ERR_get_error();
    if (code != 0)
    {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof(reason));
        message += ": ";
        message += reason;
    }

    // Later OpenSSL calls on this thread must not see our leftovers.
    ERR_clear_error();
    throw std::runtime_error(message);
}

inline void check_openssl(bool ok, std::string_view step)
{
    if (!ok)
        throw_openssl_error(step);
}

inline void set_random_serial(X509* x509)
{
    // RFC 5280 allows up to 20 octets; 16 random ones, kept positive, make two certificates
    // generated in the same second distinguishable to clients that cache by serial.
    unsigned char bytes[16];
    check_openssl(RAND_bytes(bytes, sizeof(bytes)) == 1, "random serial number");
    bytes[0] &= 0x7f;

    openssl_ptr<BIGNUM> number{BN_bin2bn(bytes, sizeof(bytes), nullptr)};
    check_openssl(number != nullptr, "serial number");
    check_openssl(
        BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(x509)) != nullptr, "serial number");
}

inline void add_extension(X509* x509, X509V3_CTX* context, int nid, char const* value)
{
    openssl_ptr<X509_EXTENSION> extension{X509V3_EXT_nconf_nid(nullptr, context, nid, value)};
    check_openssl(extension != nullptr, OBJ_nid2sn(nid));
    check_openssl(X509_add_ext(x509, extension.get(), -1) == 1, OBJ_nid2sn(nid));
}

inline void add_subject_alternative_names(X509* x509, certificate_options const& options)
{
    if (options.dns_names.empty() && options.ip_addresses.empty())
        return;

    // Built entry by entry rather than from a configuration string, so that a name holding a
    // comma or a colon (as wrong-host tests may want) cannot be misread as two entries.
    openssl_ptr<GENERAL_NAMES> names{GENERAL_NAMES_new()};
    check_openssl(names != nullptr, "subject alternative names");

    for (auto const& dns_name : options.dns_names)
    {
        openssl_ptr<ASN1_STRING> text{ASN1_IA5STRING_new()};
        check_openssl(text != nullptr, "DNS name");
        check_openssl(
            ASN1_STRING_set(text.get(), dns_name.data(), static_cast<int>(dns_name.size())) == 1,
            "DNS name");

        openssl_ptr<GENERAL_NAME> name{GENERAL_NAME_new()};
        check_openssl(name != nullptr, "DNS name");
        GENERAL_NAME_set0_value(name.get(), GEN_DNS, text.release());
        check_openssl(sk_GENERAL_NAME_push(names.get(), name.get()) > 0, "DNS name");
        name.release();
    }

    for (auto const& address : options.ip_addresses)
    {
        openssl_ptr<ASN1_STRING> octets{a2i_IPADDRESS(address.c_str())};
        if (octets == nullptr)
        {
            ERR_clear_error();
            throw std::runtime_error(
                "scenario::testing: cannot make a certificate: not an IP address: " + address);
        }

        openssl_ptr<GENERAL_NAME> name{GENERAL_NAME_new()};
        check_openssl(name != nullptr, "IP address");
        GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets.release());
        check_openssl(sk_GENERAL_NAME_push(names.get(), name.get()) > 0, "IP address");
        name.release();
    }

    check_openssl(
        X509_add1_ext_i2d(x509, NID_subject_alt_name, names.get(), 0, 0) == 1,
        "subject alternative names");
}

inline std::string to_pem(BIO* bio)
{
    char* data = nullptr;
    long const size = BIO_get_mem_data(bio, &data);
    check_openssl(size > 0 && data != nullptr, "PEM encoding");
    return std::string(data, static_cast<std::size_t>(size));
}

} // namespace detail

/// Makes a fresh EC P-256 key and a self-signed X.509 v3 certificate for it, signed with
/// SHA-256, carrying the requested names and validity window. The certificate is an end-entity
/// certificate (`CA:FALSE`, `serverAuth`) that clients trust directly.
///
/// Throws std::runtime_error with OpenSSL's reason on failure, or when an IP address does not
/// parse. Thread-safe: each call uses only its own objects.
inline certificate make_self_signed_certificate(certificate_options const& options = {})
{
    using detail::check_openssl;
    using detail::openssl_ptr;

    ERR_clear_error();

    openssl_ptr<EVP_PKEY> key{EVP_EC_gen("P-256")};
    check_openssl(key != nullptr, "EC P-256 key generation");

    openssl_ptr<X509> x509{X509_new()};
    check_openssl(x509 != nullptr, "X509_new");
    check_openssl(X509_set_version(x509.get(), X509_VERSION_3) == 1, "version");
    detail::set_random_serial(x509.get());

    check_openssl(
        X509_gmtime_adj(
            X509_getm_notBefore(x509.get()),
            static_cast<long>(options.not_before_offset.count())) != nullptr,
        "notBefore");
    check_openssl(
        X509_gmtime_adj(
            X509_getm_notAfter(x509.get()), static_cast<long>(options.not_after_offset.count())) !=
            nullptr,
        "notAfter");

    openssl_ptr<X509_NAME> name{X509_NAME_new()};
    check_openssl(name != nullptr, "subject name");
    auto const* common_name = reinterpret_cast<unsigned char const*>(options.common_name.c_str());
    check_openssl(
        X509_NAME_add_entry_by_NID(
            name.get(), NID_commonName, MBSTRING_UTF8, common_name, -1, -1, 0) == 1,
        "common name");
    check_openssl(X509_set_subject_name(x509.get(), name.get()) == 1, "subject name");
    check_openssl(X509_set_issuer_name(x509.get(), name.get()) == 1, "issuer name");
    check_openssl(X509_set_pubkey(x509.get(), key.get()) == 1, "public key");

    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, x509.get(), x509.get(), nullptr, nullptr, 0);
    detail::add_extension(x509.get(), &context, NID_basic_constraints, "critical,CA:FALSE");
    detail::add_extension(x509.get(), &context, NID_key_usage, "critical,digitalSignature");
    detail::add_extension(x509.get(), &context, NID_ext_key_usage, "serverAuth");
    detail::add_extension(x509.get(), &context, NID_subject_key_identifier, "hash");
    detail::add_extension(x509.get(), &context, NID_authority_key_identifier, "keyid:always");
    detail::add_subject_alternative_names(x509.get(), options);

    check_openssl(X509_sign(x509.get(), key.get(), EVP_sha256()) > 0, "signature");

    openssl_ptr<BIO> certificate_bio{BIO_new(BIO_s_mem())};
    openssl_ptr<BIO> key_bio{BIO_new(BIO_s_mem())};
    check_openssl(certificate_bio != nullptr && key_bio != nullptr, "memory BIO");
    check_openssl(PEM_write_bio_X509(certificate_bio.get(), x509.get()) == 1, "certificate PEM");
    check_openssl(
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
            1,
        "private key PEM");

    return certificate{
        detail::to_pem(certificate_bio.get()),
        detail::to_pem(key_bio.get()),
    };
}

} // namespace scenario::testing

#endif
