#include <catch2/catch.hpp>

#include <string>

#include "socle/adapters/http/multipart.hpp"

using socle::adapters::http::FormData;
using socle::adapters::http::FormLimits;
using socle::adapters::http::MediaType;
using socle::adapters::http::MultipartBoundary;
using socle::adapters::http::ParseMultipart;
using socle::adapters::http::ParseUrlEncoded;

namespace {

// One part with a Content-Disposition built from `disposition` and optional extra headers.
std::string Part(std::string_view disposition, std::string_view content,
                 std::string_view extra_headers = "") {
  std::string part = "--XyZ\r\nContent-Disposition: form-data; ";
  part += disposition;
  part += "\r\n";
  part += extra_headers;
  part += "\r\n";
  part += content;
  part += "\r\n";
  return part;
}

FormData MustParse(const std::string& body, const FormLimits& limits = {}) {
  auto parsed = ParseMultipart(body, "XyZ", limits);
  if (!parsed) FAIL(parsed.error().message);
  return *parsed;
}

std::string Failure(const std::string& body, const FormLimits& limits = {}) {
  auto parsed = ParseMultipart(body, "XyZ", limits);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == socle::domain::ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

}  // namespace

TEST_CASE("media types are compared without parameters or case", "[http][multipart]") {
  CHECK(MediaType("Multipart/Form-Data; boundary=x") == "multipart/form-data");
  CHECK(MediaType(" application/json ") == "application/json");
  CHECK(MediaType("").empty());
}

TEST_CASE("the boundary comes from the Content-Type", "[http][multipart]") {
  CHECK(MultipartBoundary("multipart/form-data; boundary=abc123") == "abc123");
  CHECK(MultipartBoundary("multipart/form-data;boundary=\"a b:c\"") == "a b:c");
  CHECK(MultipartBoundary("multipart/form-data; charset=utf-8; BOUNDARY=----WebKitFormBoundary7MA4")
            .value() == "----WebKitFormBoundary7MA4");
  for (std::string_view bad :
       {"multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"trailing \"", "multipart/form-data; boundary=a;boundary=b",
        "multipart/form-data; boundary=\"unterminated", "multipart/form-data; boundary=a{b",
        "form-data; boundary=x", "multipart/form-data boundary=x"}) {
    INFO(bad);
    CHECK_FALSE(MultipartBoundary(bad));
  }
  CHECK(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'a')));
  CHECK_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST_CASE("multipart fields and files are decoded", "[http][multipart]") {
  const std::string body = "preamble to ignore\r\n" + Part("name=\"title\"", "Hello") +
                           Part("name=\"tags\"", "a") + Part("name=\"tags\"", "b") +
                           Part("name=\"doc\"; filename=\"C:\\fakepath\\report.pdf\"",
                                std::string("%PDF\r\nx--XyZ is no boundary\0x", 28),
                                "Content-Type: application/pdf\r\n") +
                           Part("name=\"raw\"; filename=\"dir/raw.bin\"", "") +
                           "--XyZ--\r\nepilogue to ignore";
  const FormData form = MustParse(body);
  REQUIRE(form.fields.size() == 3);
  CHECK(form.fields[0] == std::pair<std::string, std::string>{"title", "Hello"});
  CHECK(form.fields[1].second == "a");
  CHECK(form.fields[2].second == "b");
  REQUIRE(form.files.size() == 2);
  CHECK(form.files[0].field == "doc");
  CHECK(form.files[0].filename == "report.pdf");
  CHECK(form.files[0].content_type == "application/pdf");
  CHECK(form.files[0].bytes == std::string("%PDF\r\nx--XyZ is no boundary\0x", 28));
  CHECK(form.files[0].size() == 28);
  CHECK(form.files[1].filename == "raw.bin");
  CHECK(form.files[1].content_type == "application/octet-stream");
  CHECK(form.files[1].size() == 0);
}

TEST_CASE("multipart details browsers and SDKs produce are accepted", "[http][multipart]") {
  SECTION("an empty filename is an empty field (an empty file input)") {
    const FormData form = MustParse(Part("name=\"avatar\"; filename=\"\"", "") + "--XyZ--");
    REQUIRE(form.fields.size() == 1);
    CHECK(form.fields[0].second.empty());
    CHECK(form.files.empty());
  }
  SECTION("filename* wins over filename and is UTF-8") {
    const FormData form =
        MustParse(Part("name=\"f\"; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
                       "1") +
                  "--XyZ--");
    REQUIRE(form.files.size() == 1);
    CHECK(form.files[0].filename == "\xE2\x82\xAC rates.txt");
  }
  SECTION("quoted names keep escaped quotes; header names are case-insensitive; padding") {
    const std::string body =
        "--XyZ  \t\r\ncontent-disposition: FORM-DATA;name=\"a\\\"b\"\r\nX-Other: 1\r\n\r\nv\r\n"
        "--XyZ--";
    const FormData form = MustParse(body);
    REQUIRE(form.fields.size() == 1);
    CHECK(form.fields[0].first == "a\"b");
  }
  SECTION("token names, and the SDK's quoted @jsonPayload") {
    const FormData form = MustParse(Part("name=plain", "1") +
                                    Part("name=\"@jsonPayload\"", R"({"a":1})") + "--XyZ--");
    CHECK(form.fields[0].first == "plain");
    CHECK(form.fields[1].first == "@jsonPayload");
    CHECK_FALSE(ParseMultipart(Part("name=@jsonPayload", "1") + "--XyZ--", "XyZ"));  // not a token
  }
  SECTION("an empty form") {
    const FormData form = MustParse("--XyZ--\r\n");
    CHECK(form.fields.empty());
    CHECK(form.files.empty());
  }
}

TEST_CASE("malformed multipart bodies are refused with a reason", "[http][multipart]") {
  CHECK(Failure("no boundary here") == "Malformed form body: missing the first boundary.");
  CHECK(Failure(Part("name=\"a\"", "v")) == "Malformed form body: missing the closing boundary.");
  CHECK(Failure("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv") ==
        "Malformed form body: missing the closing boundary.");
  CHECK(Failure("--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--")
            .find("without Content-Disposition") != std::string::npos);
  CHECK(Failure("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--")
            .find("must be form-data") != std::string::npos);
  CHECK(Failure(Part("filename=\"a.txt\"", "v") + "--XyZ--").find("without a name") !=
        std::string::npos);
  CHECK(Failure(Part("name=\"\"", "v") + "--XyZ--").find("without a name") != std::string::npos);
  CHECK(Failure(Part("name=\"a\"", "v", " folded: yes\r\n") + "--XyZ--").find("folded") !=
        std::string::npos);
  // A line starting with the delimiter inside content is the sender's mistake (RFC 2046 5.1.1).
  CHECK(Failure(Part("name=\"a\"", "x\r\n--XyZoops") + "--XyZ--").find("boundary line") !=
        std::string::npos);
  CHECK(Failure(Part("name=\"a\"", "v", "Content-Transfer-Encoding: base64\r\n") + "--XyZ--")
            .find("Content-Transfer-Encoding") != std::string::npos);
  CHECK(Failure(Part("name=\"a\"", "v", "Content-Disposition: form-data; name=\"b\"\r\n") +
                "--XyZ--")
            .find("repeated content-disposition") != std::string::npos);
  CHECK(Failure(Part("name=\"a", "v") + "--XyZ--").find("unterminated") != std::string::npos);
  CHECK(Failure(Part("name=\"a\"; name=\"b\"", "v") + "--XyZ--").find("repeated") !=
        std::string::npos);
  CHECK(Failure(Part("name=\"a\"", "\xFF\xFE") + "--XyZ--").find("UTF-8") != std::string::npos);
  CHECK(Failure(Part("name=\"a\"", "v") + "--XyZjunk\r\n").find("boundary line") !=
        std::string::npos);
  CHECK(Failure(Part("name=\"a\"; filename=\"dir/\"", "v") + "--XyZ--").find("invalid filename") !=
        std::string::npos);
  CHECK(Failure(Part("name=\"a\"; filename*=latin1''x", "v") + "--XyZ--").find("UTF-8") !=
        std::string::npos);
  CHECK(Failure("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nBad Header: x\r\n\r\nv"
                "\r\n--XyZ--")
            .find("malformed part header") != std::string::npos);
  CHECK(Failure("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX: a\x01"
                "b\r\n\r\nv\r\n--XyZ--")
            .find("control character") != std::string::npos);
  CHECK_FALSE(ParseMultipart("--a--", "bad{boundary"));
}

TEST_CASE("multipart limits are enforced", "[http][multipart]") {
  FormLimits limits;
  limits.max_parts = 2;
  limits.max_part_headers = 2;
  limits.max_part_header_bytes = 64;
  const std::string two = Part("name=\"a\"", "1") + Part("name=\"b\"", "2");
  CHECK(MustParse(two + "--XyZ--", limits).fields.size() == 2);
  CHECK(Failure(two + Part("name=\"c\"", "3") + "--XyZ--", limits) ==
        "Malformed form body: too many parts.");
  CHECK(Failure(Part("name=\"a\"", "1", "A: 1\r\nB: 2\r\n") + "--XyZ--", limits) ==
        "Malformed form body: too many part header fields.");
  CHECK(Failure(Part("name=\"a\"", "1", "A: " + std::string(80, 'x') + "\r\n") + "--XyZ--",
                limits) == "Malformed form body: part header too large.");
}

TEST_CASE("urlencoded bodies are decoded", "[http][multipart]") {
  auto form = ParseUrlEncoded("title=Hello+world&tags=a&tags=b&&flag&pct=%E2%82%AC%26");
  REQUIRE(form);
  REQUIRE(form->fields.size() == 5);
  CHECK(form->fields[0] == std::pair<std::string, std::string>{"title", "Hello world"});
  CHECK(form->fields[2].second == "b");
  CHECK(form->fields[3] == std::pair<std::string, std::string>{"flag", ""});
  CHECK(form->fields[4].second == "\xE2\x82\xAC&");
  CHECK(ParseUrlEncoded("")->fields.empty());

  CHECK_FALSE(ParseUrlEncoded("a=%zz"));
  CHECK_FALSE(ParseUrlEncoded("a=%e2%82"));  // truncated UTF-8 after decoding
  FormLimits limits;
  limits.max_parts = 2;
  CHECK(ParseUrlEncoded("a=1&b=2", limits));
  CHECK_FALSE(ParseUrlEncoded("a=1&b=2&c=3", limits));
}
