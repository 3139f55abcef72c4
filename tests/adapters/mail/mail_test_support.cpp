#include "mail_test_support.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "socle/adapters/json/json_parser.hpp"

namespace socle::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kSmtpDir = SOCLE_SMTP_SUPPORT_DIR;

std::string Node() {
  const std::string node = SOCLE_NODE_BIN;
  if (node.empty() || !fs::exists(node)) {
    throw std::runtime_error("Node.js was not found when configuring (" + node +
                             "): install the Debian packages nodejs and npm, then reconfigure.");
  }
  return node;
}

domain::JsonValue ParseJsonText(const std::string& text, const std::string& what) {
  adapters::json::JsonLimits limits;
  limits.max_bytes = std::size_t{64} << 20;
  auto parsed = adapters::json::ParseJson(text, limits);
  if (!parsed) {
    throw std::runtime_error("unreadable JSON from " + what + ": " + parsed.error().internal);
  }
  return std::move(*parsed);
}

// Runs `openssl` with `args`; throws with its diagnostics when it fails.
void OpenSsl(const std::vector<std::string>& args) {
  const std::string openssl = SOCLE_OPENSSL_BIN;
  if (openssl.empty() || !fs::exists(openssl)) {
    throw std::runtime_error("the openssl command was not found when configuring: install the "
                             "Debian package openssl, then reconfigure.");
  }
  ProcessResult result = RunProcess(openssl, args, {}, std::chrono::seconds(60));
  if (result.exit_code != 0) {
    throw std::runtime_error("openssl " + args.front() + " failed: " + result.err);
  }
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

TestCertificates MakeCertificates(const TempDir& dir) {
  TestCertificates certs;
  const fs::path root = dir.path();
  certs.ca_file = root / "ca.pem";
  certs.other_ca_file = root / "other-ca.pem";
  certs.server_cert = root / "server.pem";
  certs.server_key = root / "server-key.pem";
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                           "ec_paramgen_curve:prime256v1", "-nodes"};
  auto make_ca = [&](const fs::path& cert, const fs::path& key, const std::string& name) {
    std::vector<std::string> args = {"req", "-x509"};
    args.insert(args.end(), ec_key.begin(), ec_key.end());
    args.insert(args.end(), {"-keyout", key.string(), "-out", cert.string(), "-days", "2",
                             "-subj", "/CN=" + name, "-addext",
                             "basicConstraints=critical,CA:TRUE", "-addext",
                             "keyUsage=critical,keyCertSign,cRLSign"});
    OpenSsl(args);
  };
  make_ca(certs.ca_file, root / "ca-key.pem", "Socle test CA");
  make_ca(certs.other_ca_file, root / "other-ca-key.pem", "Socle unrelated test CA");

  const fs::path request = root / "server.csr";
  std::vector<std::string> args = {"req", "-new"};
  args.insert(args.end(), ec_key.begin(), ec_key.end());
  args.insert(args.end(), {"-keyout", certs.server_key.string(), "-out", request.string(),
                           "-subj", "/CN=localhost"});
  OpenSsl(args);
  const fs::path extensions = root / "server.ext";
  WriteFile(extensions,
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=DNS:localhost\n");
  OpenSsl({"x509", "-req", "-in", request.string(), "-CA", certs.ca_file.string(), "-CAkey",
           (root / "ca-key.pem").string(), "-CAcreateserial", "-out", certs.server_cert.string(),
           "-days", "2", "-extfile", extensions.string()});
  return certs;
}

std::vector<std::string> StringList(const domain::JsonValue& value) {
  std::vector<std::string> out;
  for (const auto& item : value.items()) out.push_back(item.AsString());
  return out;
}

}  // namespace

void RequireMailTools() {
  (void)Node();
  for (const char* package : {"smtp-server", "mailparser"}) {
    if (!fs::exists(kSmtpDir / "node_modules" / package / "package.json")) {
      throw std::runtime_error(std::string("the npm package ") + package + " is not installed in " +
                               (kSmtpDir / "node_modules").string() +
                               ": run `make test` (it runs `npm ci` there), or `npm ci` in " +
                               kSmtpDir.string());
    }
  }
}

std::vector<domain::JsonValue> ParseMailFiles(const std::vector<fs::path>& files) {
  RequireMailTools();
  std::vector<std::string> args = {(kSmtpDir / "parse_mail.mjs").string()};
  for (const auto& file : files) args.push_back(file.string());
  ProcessResult result = RunProcess(Node(), args, {}, std::chrono::seconds(60));
  if (result.exit_code != 0) throw std::runtime_error("parse_mail.mjs failed: " + result.err);
  domain::JsonValue list = ParseJsonText(result.out, "parse_mail.mjs");
  if (list.type() != domain::JsonValue::Type::kArray || list.items().size() != files.size()) {
    throw std::runtime_error("parse_mail.mjs did not describe every file");
  }
  return list.items();
}

std::string StringOf(const domain::JsonValue& object, std::string_view key) {
  const domain::JsonValue* value = object.Find(key);
  if (value == nullptr || value->type() != domain::JsonValue::Type::kString) return "";
  return value->AsString();
}

std::vector<std::string> MailboxesOf(const domain::JsonValue& object, std::string_view key) {
  std::vector<std::string> out;
  const domain::JsonValue* list = object.Find(key);
  if (list == nullptr) return out;
  for (const auto& mailbox : list->items()) {
    const std::string name = StringOf(mailbox, "name");
    const std::string address = StringOf(mailbox, "address");
    out.push_back(name.empty() ? address : name + " <" + address + ">");
  }
  return out;
}

std::string NormalizeNewlines(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  while (out.ends_with('\n')) out.pop_back();
  return out;
}

const TestCertificates& Certificates() {
  // Made once per process: generating keys is the slow part of the TLS tests.
  static TempDir dir;
  static const TestCertificates certificates = MakeCertificates(dir);
  return certificates;
}

SmtpReceiver::SmtpReceiver(const ReceiverOptions& options) {
  RequireMailTools();
  std::vector<std::string> args = {(kSmtpDir / "smtp_receiver.mjs").string(), "--out",
                                   (dir_.path() / "mail").string()};
  switch (options.security) {
    case ReceiverOptions::Security::kPlain: args.insert(args.end(), {"--security", "plain"}); break;
    case ReceiverOptions::Security::kStartTls:
      args.insert(args.end(), {"--security", "starttls"});
      break;
    case ReceiverOptions::Security::kTls: args.insert(args.end(), {"--security", "tls"}); break;
  }
  if (options.security != ReceiverOptions::Security::kPlain) {
    const TestCertificates& certs = Certificates();
    args.insert(args.end(), {"--cert", certs.server_cert.string(), "--key",
                             certs.server_key.string()});
  }
  if (options.user) {
    args.insert(args.end(), {"--user", *options.user, "--password", options.password,
                             "--auth-methods", options.auth_methods});
  }
  if (options.allow_insecure_auth) args.push_back("--allow-insecure-auth");
  for (const auto& address : options.refuse_recipients) {
    args.insert(args.end(), {"--refuse-recipient", address});
  }
  if (options.size) args.insert(args.end(), {"--size", std::to_string(*options.size)});

  const std::string log = (dir_.path() / "receiver.log").string();
  process_ = std::make_unique<ChildProcess>(Node(), args, EnvVars{}, log);
  auto line = process_->ReadLine(std::chrono::seconds(30));
  constexpr std::string_view kReady = "smtp-receiver listening on 127.0.0.1:";
  if (!line || !line->starts_with(kReady)) {
    throw std::runtime_error("the SMTP receiver did not start; its log: " + ReadFile(log));
  }
  const std::string_view port_text = std::string_view(*line).substr(kReady.size());
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || port == 0 || port > 65535) {
    throw std::runtime_error("the SMTP receiver printed an odd port: " + *line);
  }
  port_ = static_cast<std::uint16_t>(port);
}

SmtpReceiver::~SmtpReceiver() {
  if (process_) (void)process_->Terminate(std::chrono::seconds(10));
}

std::vector<ReceivedMail> SmtpReceiver::WaitForMessages(std::size_t count,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (stored_ < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = left.count() > 0 ? process_->ReadLine(left) : std::nullopt;
    if (!line) {
      throw std::runtime_error("the SMTP receiver stored " + std::to_string(stored_) +
                               " messages, not " + std::to_string(count) + "; its log: " +
                               ReadFile(dir_.path() / "receiver.log"));
    }
    if (line->starts_with("smtp-receiver stored ")) ++stored_;
  }
  // Send returns once the server accepted the data, and the receiver writes its files before
  // it accepts: when a test asks, every message it sent is on disk, so any extra one is real.
  std::size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(dir_.path() / "mail")) {
    if (entry.path().extension() == ".json") ++on_disk;
  }
  if (on_disk != count) {
    throw std::runtime_error("the SMTP receiver holds " + std::to_string(on_disk) +
                             " messages, not " + std::to_string(count));
  }
  std::vector<ReceivedMail> mails;
  for (std::size_t i = 1; i <= stored_; ++i) {
    std::string name = std::to_string(i);
    name.insert(0, 6 - name.size(), '0');
    ReceivedMail mail;
    mail.eml = dir_.path() / "mail" / (name + ".eml");
    mail.raw = ReadFile(mail.eml);
    const domain::JsonValue envelope =
        ParseJsonText(ReadFile(dir_.path() / "mail" / (name + ".json")), name + ".json");
    mail.from = StringOf(envelope, "from");
    if (const auto* to = envelope.Find("to")) mail.to = StringList(*to);
    if (const auto* secure = envelope.Find("secure")) mail.secure = secure->AsBool();
    if (const auto* auth = envelope.Find("auth"); auth != nullptr && auth->IsObject()) {
      mail.auth_method = StringOf(*auth, "method");
      mail.auth_user = StringOf(*auth, "username");
    }
    mail.client_hostname = StringOf(envelope, "clientHostname");
    mails.push_back(std::move(mail));
  }
  return mails;
}

std::uint16_t UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace socle::testing
