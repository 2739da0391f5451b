// Unit tests of issue 13's addressing (file_selector.hpp: names, ids, uid prefixes, globs) and of
// what `dfd get` prints for one or several files (get_report.hpp), and the text tables
// (text_table.hpp).
#include <gtest/gtest.h>

#include "file_selector.hpp"
#include "get_report.hpp"
#include "manifest.hpp"
#include "text_table.hpp"
#include "util.hpp"

using namespace dfd::client;

namespace {
FileEntry entry(std::int64_t id, std::string name, std::string uid, std::uint64_t size = 1024) {
  FileEntry f;
  f.id = id;
  f.name = std::move(name);
  f.uid = uid;
  f.size = size;
  f.alg = "sha256";
  f.digest = std::move(uid);
  return f;
}

// A uid of 64 hex digits starting with `prefix`.
std::string uid(const std::string& prefix, char fill = '0') {
  return prefix + std::string(64 - prefix.size(), fill);
}

const std::vector<FileEntry> kCatalog = {
    entry(1, "hello.txt", uid("ab12cd")),
    entry(2, "movie.iso", uid("ab12ce")),
    entry(3, "videos/movie.iso", uid("f00d")),
    entry(4, "dup.bin", uid("1111")),
    entry(5, "dup.bin", uid("2222")),
    entry(6, "2024", uid("3333")),
    entry(7, "cafe", uid("4444")),
    entry(8, "other", uid("cafe99")),
};

int exit_of(const std::vector<FileEntry>& files, const std::string& arg) {
  try {
    select_file(files, parse_file_spec(arg));
  } catch (const CliError& e) {
    return e.exit_code;
  }
  return 0;
}

std::int64_t id_of(const std::string& arg) {
  return select_file(kCatalog, parse_file_spec(arg)).id;
}
}  // namespace

TEST(FileSpec, Forms) {
  auto s = parse_file_spec("7");
  EXPECT_EQ(s.kind, FileSpec::Kind::kId);
  EXPECT_EQ(s.value, "7");
  EXPECT_TRUE(is_id_spec(s));
  EXPECT_EQ(parse_file_spec("007").value, "7");
  EXPECT_EQ(parse_file_spec("0").value, "0");
  EXPECT_EQ(parse_file_spec("id:12").value, "12");
  s = parse_file_spec("name:2024");
  EXPECT_EQ(s.kind, FileSpec::Kind::kName);
  EXPECT_EQ(s.value, "2024");
  EXPECT_FALSE(is_id_spec(s));
  s = parse_file_spec("uid:AB12");
  EXPECT_EQ(s.kind, FileSpec::Kind::kUid);
  EXPECT_EQ(s.value, "ab12");
  s = parse_file_spec("movie.iso");
  EXPECT_EQ(s.kind, FileSpec::Kind::kAuto);
  EXPECT_EQ(s.arg, "movie.iso");
}

TEST(FileSpec, BadFormsAreUsageErrors) {
  for (const char* bad : {"", "id:", "id:x7", "name:", "uid:", "uid:abc", "uid:xyz1"}) {
    try {
      parse_file_spec(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const CliError& e) {
      EXPECT_EQ(e.exit_code, exit_code::kUsage) << bad;
    }
  }
  // An id too long for any catalog is simply not found.
  EXPECT_EQ(exit_of(kCatalog, "123456789012345678901234"), exit_code::kNotFound);
}

TEST(SelectFile, ByExactName) {
  EXPECT_EQ(id_of("hello.txt"), 1);
  EXPECT_EQ(id_of("movie.iso"), 2);  // exact: not videos/movie.iso
  EXPECT_EQ(id_of("videos/movie.iso"), 3);
  EXPECT_EQ(exit_of(kCatalog, "Movie.iso"), exit_code::kNotFound);  // case-sensitive
  EXPECT_EQ(exit_of(kCatalog, "movie"), exit_code::kNotFound);      // whole name
  EXPECT_EQ(exit_of(kCatalog, "name:nothing"), exit_code::kNotFound);
}

TEST(SelectFile, ByUidPrefix) {
  EXPECT_EQ(id_of("f00d"), 3);
  EXPECT_EQ(id_of("F00D"), 3);  // any case
  EXPECT_EQ(id_of("ab12cd"), 1);
  EXPECT_EQ(id_of("uid:ab12ce"), 2);
  EXPECT_EQ(id_of(uid("f00d")), 3);  // the whole uid is a prefix too
  // Shorter than 4 hex digits: not a uid prefix, and the message says why.
  try {
    select_file(kCatalog, parse_file_spec("f00"));
    ADD_FAILURE();
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kNotFound);
    EXPECT_NE(std::string(e.what()).find("at least 4 hex digits"), std::string::npos) << e.what();
  }
  EXPECT_EQ(exit_of(kCatalog, "uid:beef"), exit_code::kNotFound);
}

TEST(SelectFile, ExactNameWinsOverUidPrefix) {
  EXPECT_EQ(id_of("cafe"), 7);      // the file named "cafe", not uid cafe99...
  EXPECT_EQ(id_of("uid:cafe"), 8);  // the explicit form reaches the uid
  EXPECT_EQ(id_of("name:cafe"), 7);
}

TEST(SelectFile, AmbiguousUidPrefixListsTheCandidates) {
  try {
    select_file(kCatalog, parse_file_spec("ab12"));
    ADD_FAILURE();
  } catch (const AmbiguousFile& e) {
    EXPECT_EQ(e.exit_code, exit_code::kAmbiguous);
    ASSERT_EQ(e.candidates.size(), 2u);
    EXPECT_EQ(e.candidates[0].id, 1);
    EXPECT_EQ(e.candidates[1].id, 2);
    std::string msg = e.what();
    EXPECT_NE(msg.find("matches 2 files"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hello.txt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("movie.iso"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1.0 KiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find(uid("ab12cd").substr(0, 12)), std::string::npos) << msg;
  }
}

TEST(SelectFile, NameOfSeveralFilesIsAmbiguous) {
  try {
    select_file(kCatalog, parse_file_spec("dup.bin"));
    ADD_FAILURE();
  } catch (const AmbiguousFile& e) {
    EXPECT_EQ(e.exit_code, exit_code::kAmbiguous);
    ASSERT_EQ(e.candidates.size(), 2u);
    EXPECT_NE(std::string(e.what()).find("same name"), std::string::npos) << e.what();
  }
  EXPECT_EQ(id_of("4"), 4);         // each by its id,
  EXPECT_EQ(id_of("uid:2222"), 5);  // or by its uid prefix (digits only: with uid:)
}

TEST(SelectFile, AllDigitsIsTheId) {
  std::vector<FileEntry> files = kCatalog;
  // "2024" is all digits: the id 2024, not the file named "2024"; name:2024 reaches the name.
  files.push_back(entry(2024, "year.csv", uid("5555")));
  EXPECT_EQ(select_file(files, parse_file_spec("2024")).id, 2024);
  EXPECT_EQ(select_file(files, parse_file_spec("name:2024")).id, 6);
  EXPECT_EQ(select_file(files, parse_file_spec("id:6")).id, 6);
  EXPECT_EQ(exit_of(files, "99"), exit_code::kNotFound);
  // Without an id 2024, "2024" is still an id (not found), never the name.
  EXPECT_EQ(exit_of(kCatalog, "2024"), exit_code::kNotFound);
  EXPECT_EQ(exit_of(kCatalog, "3333"), exit_code::kNotFound);  // nor a uid prefix
}

TEST(SelectFile, CandidateTableTellsLongSharedPrefixesApart) {
  std::string a = uid("0123456789abcdef01", '1');
  std::string b = uid("0123456789abcdef02", '2');
  auto table = candidate_table({entry(1, "a", a), entry(2, "b", b)});
  EXPECT_NE(table.find(a.substr(0, 18)), std::string::npos) << table;
  EXPECT_NE(table.find(b.substr(0, 18)), std::string::npos) << table;
  EXPECT_EQ(table.find(a.substr(0, 19)), std::string::npos) << table;
  // Many candidates: the first 20, then how many more.
  std::vector<FileEntry> many;
  for (int i = 0; i < 25; ++i) many.push_back(entry(i, "same", uid("ab" + std::to_string(10 + i))));
  table = candidate_table(many);
  EXPECT_NE(table.find("... and 5 more"), std::string::npos) << table;
  EXPECT_EQ(table.find("  20  "), std::string::npos) << table;
  EXPECT_NE(table.find("  19  "), std::string::npos) << table;
  // A name with a control character is escaped.
  table = candidate_table({entry(1, "evil\x1b[2J", uid("1"))});
  EXPECT_EQ(table.find('\x1b'), std::string::npos);
}

TEST(Globs, FilterByShellPattern) {
  auto names = [](const std::vector<FileEntry>& files) {
    std::string s;
    for (const auto& f : files) s += std::to_string(f.id);
    return s;
  };
  EXPECT_EQ(names(matching_globs(kCatalog, {})), "12345678");
  EXPECT_EQ(names(matching_globs(kCatalog, {"*.iso"})), "23");  // '*' matches '/' too
  EXPECT_EQ(names(matching_globs(kCatalog, {"dup.*", "hello.txt"})), "145");
  EXPECT_EQ(names(matching_globs(kCatalog, {"[0-9]*"})), "6");
  EXPECT_EQ(names(matching_globs(kCatalog, {"nothing*"})), "");
}

TEST(FileList, AvailableField) {
  auto j = nlohmann::json::parse(R"({"files": [
      {"id": 1, "uid": "aa", "name": "a", "size": 1, "available": true},
      {"id": 2, "uid": "bb", "name": "b", "size": 1, "available": false},
      {"id": 3, "uid": "cc", "name": "c", "size": 1}], "total": 3})");
  auto files = parse_file_list(j);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].available, std::optional<bool>(true));
  EXPECT_EQ(files[1].available, std::optional<bool>(false));
  EXPECT_FALSE(files[2].available.has_value());
}

namespace {
FileOutcome outcome(const std::string& arg, int code, const std::string& name = "") {
  FileOutcome o;
  o.arg = arg;
  o.report.name = name;
  if (code == 0) {
    o.report.ok = true;
    o.report.exit_code = 0;
    o.report.size = 2048;
    o.report.seconds = 1.5;
    o.report.average_speed = 1365;
    o.ran = true;
  } else {
    set_failed(o, code, "failure " + std::to_string(code));
  }
  return o;
}
}  // namespace

TEST(GetReport, OneFileIsItsReportWithTheArgument) {
  auto o = outcome("x.iso", exit_code::kAmbiguous);
  o.candidates = {entry(1, "x.iso", uid("11")), entry(2, "x.iso", uid("22"))};
  auto j = outcomes_to_json({o}, false);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], exit_code::kAmbiguous);
  EXPECT_EQ(j["error"], "failure 14");
  EXPECT_EQ(j["file"], "x.iso");
  ASSERT_EQ(j["candidates"].size(), 2u);
  EXPECT_EQ(j["candidates"][1]["id"], 2);
  EXPECT_EQ(j["candidates"][1]["uid"], uid("22"));
  EXPECT_TRUE(j.contains("servers"));  // the whole report shape, even before a download
  j = outcomes_to_json({outcome("a", 0)}, false);
  EXPECT_EQ(j["ok"], true);
  EXPECT_FALSE(j.contains("candidates"));
}

TEST(GetReport, SeveralFilesFirstFailureInOrderWins) {
  std::vector<FileOutcome> all = {outcome("a", 0, "a.iso"), outcome("b", exit_code::kNotFound),
                                  outcome("c", exit_code::kIncomplete)};
  EXPECT_EQ(overall_exit_code(all), exit_code::kNotFound);
  auto j = outcomes_to_json(all, true);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], exit_code::kNotFound);
  EXPECT_EQ(j["error"], "b: failure 5");
  ASSERT_EQ(j["files"].size(), 3u);
  EXPECT_EQ(j["files"][2]["exit_code"], exit_code::kIncomplete);
  all = {outcome("a", 0), outcome("b", 0)};
  EXPECT_EQ(overall_exit_code(all), 0);
  j = outcomes_to_json(all, true);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["error"], "");
}

TEST(GetReport, SummaryTable) {
  std::vector<FileOutcome> all = {outcome("a", 0, "a.iso"), outcome("b\x1b", exit_code::kNotFound),
                                  outcome("c", exit_code::kInterrupted)};
  auto t = summary_table(all);
  EXPECT_NE(t.find("FILE"), std::string::npos) << t;
  EXPECT_NE(t.find("SPEED"), std::string::npos) << t;
  EXPECT_NE(t.find("a.iso"), std::string::npos) << t;
  EXPECT_NE(t.find("2.0 KiB"), std::string::npos) << t;
  EXPECT_NE(t.find("1.5 s"), std::string::npos) << t;
  EXPECT_NE(t.find("failed (exit 5)"), std::string::npos) << t;
  EXPECT_NE(t.find("interrupted"), std::string::npos) << t;
  EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
  EXPECT_NE(t.find("3 files: 1 ok, 2 failed"), std::string::npos) << t;
}

TEST(GetReport, ConnectionShare) {
  EXPECT_EQ(connection_share(16, 4, 10), 4u);  // four running
  EXPECT_EQ(connection_share(16, 4, 2), 8u);   // the last two share the budget
  EXPECT_EQ(connection_share(16, 4, 1), 16u);
  EXPECT_EQ(connection_share(6, 3, 3), 2u);
  EXPECT_EQ(connection_share(2, 8, 8), 1u);  // at least one each
  EXPECT_EQ(connection_share(16, 1, 0), 16u);
}

TEST(TextTable, AlignsColumns) {
  EXPECT_EQ(format_table({{"ID", "NAME", "SIZE", "X"}, {"10", "a", "1 B", "last"}},
                         {false, false, true, false}, "> "),
            "> ID  NAME  SIZE  X\n"
            "> 10  a      1 B  last\n");
}
