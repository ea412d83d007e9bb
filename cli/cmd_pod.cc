// `scaletwin pod`: runs one real shortener pod (real/pod/pod.h) until SIGTERM
// or SIGINT; `scaletwin apikey`: makes and hashes API keys for its config;
// `scaletwin jwt sign`: mints a test token for a pod configured with auth.jwt.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/signal_thread.h"
#include "real/auth/api_key.h"
#include "real/auth/jwt_hs256.h"
#include "real/pod/pod.h"
#include "real/storage/api_key_hash.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

int PodCommand(const std::vector<std::string>& args) {
  std::string config_path, listen, port_file;
  po::options_description opts(R"(usage: scaletwin pod --config FILE|DIR [--listen HOST:PORT] [--port-file FILE]

Runs one real shortener pod: HTTP on the config's `listen` address, links in
SQLite (default) or PostgreSQL, the rate limiter and link cache on Redis, JSON
log lines on stdout. The config format is documented in real/pod/README.md.
With a directory (a mounted ConfigMap), DIR/config.json is read, and a swap
of DIR/..data is applied without a restart (so is an edit of FILE).

SIGTERM: /readyz fails at once, connections are accepted for
shutdown.drain_delay, then in-flight requests finish; exit 0 when drained,
1 when shutdown.grace_period ran out or a second SIGTERM came. Exit 2: the
config is invalid; 1: the pod could not start (storage, port).

options)");
  opts.add_options()("help,h", "show this help")("config,c", po::value<std::string>(&config_path),
                                                 "config file, or a directory holding config.json")(
      "listen", po::value<std::string>(&listen), "override `listen` (IP:PORT or [IPv6]:PORT; port 0 picks a free one)")(
      "port-file", po::value<std::string>(&port_file), "write the bound port to FILE once listening");
  po::options_description hidden;
  po::positional_options_description pos;
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (config_path.empty()) {
    std::cerr << "scaletwin pod: --config is required\n\n" << opts << "\n";
    return kExitBadInput;
  }
  Result<PodConfig> config = LoadPodConfig(config_path);
  if (!config.ok()) {
    std::cerr << "scaletwin pod: " << config.status().message() << "\n";
    return kExitBadInput;
  }
  // A server must not die of SIGPIPE when a client goes away mid-answer.
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ShortenerPod> pod;
  std::mutex pod_mu;
  SignalThread signals([&](int) {
    std::lock_guard<std::mutex> lock(pod_mu);
    if (pod)
      pod->Terminate();
    else
      std::_Exit(1);  // a signal during start-up: nothing to drain yet
  });
  Result<std::unique_ptr<ShortenerPod>> started =
      ShortenerPod::Start(*config, {.config_path = config_path, .listen_override = listen});
  if (!started.ok()) {
    std::cerr << "scaletwin pod: " << started.status().message() << "\n";
    return started.status().code() == StatusCode::kInvalidArgument ? kExitBadInput : kExitFailed;
  }
  {
    std::lock_guard<std::mutex> lock(pod_mu);
    pod = std::move(*started);
  }
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << pod->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());  // readers never see a half-written file
  }
  const int code = pod->Wait();
  std::lock_guard<std::mutex> lock(pod_mu);
  pod.reset();
  return code;
}

int ApiKeyCommand(const std::vector<std::string>& args) {
  constexpr const char* kUsage = R"(usage: scaletwin apikey new | scaletwin apikey hash [KEY]

  new        print a fresh random API key and its SHA-256 (put only the hash
             in the pod config's tenants[].api_key_sha256; give the key to the tenant)
  hash KEY   print the SHA-256 of KEY (read from standard input when absent)
)";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "new" && args.size() == 1) {
    Result<std::string> key = NewApiKey();
    if (!key.ok()) {
      std::cerr << "scaletwin apikey: " << key.status().message() << "\n";
      return kExitFailed;
    }
    std::cout << "key     " << *key << "\nsha256  " << ApiKeySha256Hex(*key) << "\n";
    return kExitOk;
  }
  if (args[0] == "hash" && args.size() <= 2) {
    std::string key;
    if (args.size() == 2)
      key = args[1];
    else
      std::getline(std::cin, key);
    if (key.empty()) {
      std::cerr << "scaletwin apikey hash: empty key\n";
      return kExitBadInput;
    }
    std::cout << ApiKeySha256Hex(key) << "\n";
    return kExitOk;
  }
  std::cerr << "scaletwin apikey: unknown arguments\n\n" << kUsage;
  return kExitBadInput;
}

int JwtCommand(const std::vector<std::string>& args) {
  std::string secret_file, tenant, issuer, audience, claim = "tenant";
  std::string ttl = "1h";
  po::options_description opts(R"(usage: scaletwin jwt sign --secret-file FILE --tenant ID [options]

Prints an HS256 JWT for a pod configured with auth.jwt: the tenant claim,
iat, nbf = now, exp = now + ttl, and iss/aud when given.

options)");
  opts.add_options()("help,h", "show this help")("secret-file", po::value<std::string>(&secret_file),
                                                 "the HMAC key file (as auth.jwt.secret_file)")(
      "tenant", po::value<std::string>(&tenant), "tenant id")("ttl", po::value<std::string>(&ttl), "lifetime (1h)")(
      "issuer", po::value<std::string>(&issuer), "iss claim")(
      "audience", po::value<std::string>(&audience), "aud claim")("tenant-claim", po::value<std::string>(&claim),
                                                                  "name of the tenant claim (tenant)");
  po::options_description hidden;
  hidden.add_options()("verb", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("verb", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (!vm.count("verb") || vm["verb"].as<std::string>() != "sign" || secret_file.empty() || tenant.empty()) {
    std::cerr << "scaletwin jwt: expected `sign --secret-file FILE --tenant ID`\n\n" << opts << "\n";
    return kExitBadInput;
  }
  Result<std::string> secret = ReadJwtSecretFile(secret_file);
  Result<Nanos> life = ParseDuration(ttl);
  if (!secret.ok() || !life.ok()) {
    std::cerr << "scaletwin jwt: " << (!secret.ok() ? secret.status() : life.status()).message() << "\n";
    return kExitBadInput;
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json payload = {{claim, tenant}, {"iat", now}, {"nbf", now}, {"exp", now + *life / kNanosPerSecond}};
  if (!issuer.empty()) payload["iss"] = issuer;
  if (!audience.empty()) payload["aud"] = audience;
  std::cout << SignJwtHs256(payload, *secret) << "\n";
  return kExitOk;
}

}  // namespace scaletwin::cli
