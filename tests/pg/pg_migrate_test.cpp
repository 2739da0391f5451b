// dfd_pg's migrations: several servers starting at once migrate exactly once.
#include <thread>
#include <vector>

#include "pg_migrate.hpp"
#include "pg_test_util.hpp"

namespace {

using dfd::pg::MigrationStep;
using dfd::test::shared_postgres;

// Step 1 fails when run twice (CREATE TABLE without IF NOT EXISTS); step 2 counts its runs.
const std::vector<MigrationStep> kSteps = {
    {1,
     "CREATE TABLE widgets(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);"
     "CREATE TABLE runs(step INTEGER NOT NULL)"},
    {2, "INSERT INTO runs VALUES(2); SELECT pg_sleep(0.2)"},
};

constexpr dfd::pg::Statement kCountRuns{"m_count", "SELECT count(*) FROM runs"};

TEST(PgMigrate, SeveralPoolsMigratingAtOnceMigrateOnce) {
  auto& pg = shared_postgres();
  ASSERT_TRUE(pg.ok()) << pg.error();
  const std::string dsn = pg.create_database("pgmigrate");
  constexpr int kServers = 4;
  std::vector<std::unique_ptr<dfd::pg::Pool>> pools;
  for (int i = 0; i < kServers; ++i) pools.push_back(dfd::pgtest::open_pool(pg, dsn, 2));
  std::vector<dfd::Status> results(kServers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i) {
    threads.emplace_back([&, i] { results[i] = dfd::pg::migrate(*pools[i], "widgets", kSteps); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kServers; ++i) EXPECT_TRUE(results[i].ok()) << results[i].to_string();
  auto runs = pools[0]->run(kCountRuns, {}, dfd::pg::Retry::kSafe);
  ASSERT_TRUE(runs.ok()) << runs.status().to_string();
  EXPECT_EQ(runs->int64(0, 0), 1) << "step 2 ran exactly once";
  EXPECT_EQ(dfd::pg::schema_version(*pools[1], "widgets").value(), 2);
  EXPECT_EQ(dfd::pg::schema_version(*pools[1], "other").value(), 0);

  // A later build adds step 3: only step 3 runs.
  auto more = kSteps;
  more.push_back({3, "INSERT INTO runs VALUES(3)"});
  ASSERT_TRUE(dfd::pg::migrate(*pools[2], "widgets", more).ok());
  ASSERT_TRUE(dfd::pg::migrate(*pools[3], "widgets", more).ok());
  EXPECT_EQ(pools[0]->run(kCountRuns, {}, dfd::pg::Retry::kSafe)->int64(0, 0), 2);
  // An older build (steps 1-2) on the newer schema is accepted.
  EXPECT_TRUE(dfd::pg::migrate(*pools[0], "widgets", kSteps).ok());
  // The pools' connections carry no migration session settings.
  for (auto& p : pools) EXPECT_EQ(p->stats().open, p->stats().idle);
}

TEST(PgMigrate, FailingStepRollsBackAndIsReported) {
  auto& pg = shared_postgres();
  ASSERT_TRUE(pg.ok()) << pg.error();
  auto pool = dfd::pgtest::open_pool(pg, pg.create_database("pgmigratefail"));
  ASSERT_TRUE(pool);
  std::vector<MigrationStep> steps = {{1, "CREATE TABLE a(x INT)"},
                                      {2, "CREATE TABLE b(y INT); SELECT no_such_function()"}};
  dfd::Status st = dfd::pg::migrate(*pool, "failing", steps);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("version 2"), std::string::npos) << st.message();
  EXPECT_EQ(dfd::pg::schema_version(*pool, "failing").value(), 1);
  auto c = pool->lease();
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c.value()->exec("SELECT * FROM b").ok()) << "step 2 rolled back";
  // Badly numbered steps are refused before anything runs.
  EXPECT_EQ(dfd::pg::migrate(*pool, "x", {{2, "SELECT 1"}}).code(), dfd::Code::kInvalidArgument);
}

}  // namespace
