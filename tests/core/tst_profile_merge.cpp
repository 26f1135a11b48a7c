// Merging profiles of one model from several hosts (`profile merge`): pooled samples, the
// median of host medians with a bootstrap interval, shapes only some hosts measured, failed
// shapes, the refusals (one line naming the difference and both files), and the merged file
// read back as a latency curve the way `tune --latency` reads it.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/latency/profile_merge.h"
#include "core/latency/sample_statistics.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <functional>

using namespace bucketlab;

using ProfileEdit = std::function<void(Profile&)>;
Q_DECLARE_METATYPE(ProfileEdit)

namespace {

ProfilePoint sampled(int64_t length, std::vector<double> samples)
{
    ProfilePoint p;
    p.length = length;
    p.samplesMs = std::move(samples);
    summarizeSamples(p);
    std::vector<double> sorted = p.samplesMs;
    std::sort(sorted.begin(), sorted.end());
    const auto ci = bootstrapMedianCi(sorted);
    p.ci95LowMs = ci.low;
    p.ci95HighMs = ci.high;
    return p;
}

// A point as an import without raw samples carries it: statistics only.
ProfilePoint summarized(int64_t length, double p50, double low, double high, int64_t samples)
{
    ProfilePoint p;
    p.length = length;
    p.p50Ms = p.meanMs = p.p90Ms = p.p99Ms = p50;
    p.ci95LowMs = low;
    p.ci95HighMs = high;
    p.samples = samples;
    return p;
}

Profile hostProfile(const std::string& host, std::vector<ProfilePoint> points)
{
    Profile p;
    p.modelFile = "encoder.pt";
    p.modelSha256 = std::string(64, 'a');
    p.deviceKind = "neuron";
    p.deviceName = "neuron";
    p.threads = 1;
    p.environment = {{"host", host}, {"torch", "1.13.1"}};
    p.settings = {{"target", "model forward"}, {"inputs", "input_ids:int64:0:1"},
                  {"bucket_dim", "1"},         {"batch_dim", "0"},
                  {"clock", "wall"},           {"budget_s", host == "host-a" ? "30" : "60"}};
    p.points = std::move(points);
    return p;
}

const ProfilePoint& pointAt(const ProfileMerge& m, int64_t length, size_t* index = nullptr)
{
    for (size_t i = 0; i < m.profile.points.size(); ++i)
        if (m.profile.points[i].length == length) {
            if (index)
                *index = i;
            return m.profile.points[i];
        }
    throw std::runtime_error("no point at length " + std::to_string(length));
}

} // namespace

class TestProfileMerge : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void poolsSamples();
    void medianOfHostMedians();
    void shapesOnSomeHosts();
    void failedShapes();
    void metadata();
    void refusesDifferentProfiles_data();
    void refusesDifferentProfiles();
    void refusesTooFewOrRepeated();
    void mergedFileIsALatencyCurve();
};

void TestProfileMerge::poolsSamples()
{
    const Profile a = hostProfile("host-a", {sampled(128, {1.0, 1.2, 1.1}), sampled(512, {4, 5})});
    const Profile b = hostProfile("host-b", {sampled(128, {1.4, 1.3}), sampled(512, {6, 4.5})});
    const ProfileMerge m = mergeProfiles({{"a.json", a}, {"b.json", b}}, 7);
    QCOMPARE(m.profile.points.size(), size_t(2));
    size_t i = 0;
    const ProfilePoint& p = pointAt(m, 128, &i);
    QCOMPARE(m.points[i].method, MergeMethod::PooledSamples);
    QCOMPARE(m.points[i].sources, (std::vector<std::string>{"a.json", "b.json"}));
    // Samples in the order the profiles were given; the statistics are the pool's.
    QCOMPARE(p.samplesMs, (std::vector<double>{1.0, 1.2, 1.1, 1.4, 1.3}));
    QCOMPARE(p.samples, int64_t(5));
    QCOMPARE(p.p50Ms, 1.2);
    QCOMPARE(p.meanMs, 6.0 / 5.0);
    // The interval is the pool's bootstrap interval of the median, reproducibly.
    QVERIFY(p.ci95LowMs >= 1.0 && p.ci95LowMs <= 1.2);
    QVERIFY(p.ci95HighMs >= 1.2 && p.ci95HighMs <= 1.4);
    const ProfileMerge again = mergeProfiles({{"a.json", a}, {"b.json", b}}, 7);
    QCOMPARE(pointAt(again, 128).ci95LowMs, p.ci95LowMs);
    QCOMPARE(pointAt(again, 128).ci95HighMs, p.ci95HighMs);
    QCOMPARE(pointAt(m, 512).p50Ms, 4.75); // median of 4, 4.5, 5, 6
}

void TestProfileMerge::medianOfHostMedians()
{
    // Host c imported statistics only: every figure becomes the median over the hosts.
    const Profile a = hostProfile("host-a", {sampled(128, {1.0, 1.0, 1.0})});
    const Profile b = hostProfile("host-b", {sampled(128, {3.0, 3.0, 3.0})});
    const Profile c = hostProfile("host-c", {summarized(128, 2.0, 1.9, 2.1, 40)});
    const ProfileMerge m = mergeProfiles({{"a.json", a}, {"b.json", b}, {"c.json", c}}, 3);
    const ProfilePoint& p = pointAt(m, 128);
    QCOMPARE(m.points[0].method, MergeMethod::MedianOfMedians);
    QCOMPARE(p.p50Ms, 2.0); // median of 1, 3, 2
    QCOMPARE(p.meanMs, 2.0);
    QCOMPARE(p.samples, int64_t(46));
    QVERIFY(p.samplesMs.empty()); // a part of the samples would misstate the point
    // A bootstrap interval over three medians: inside their range, around the median, and
    // the bootstrap of exactly those values with the seed.
    QVERIFY(p.ci95LowMs >= 1.0 && p.ci95LowMs <= 2.0);
    QVERIFY(p.ci95HighMs >= 2.0 && p.ci95HighMs <= 3.0);
    const ProfileMerge again = mergeProfiles({{"a.json", a}, {"b.json", b}, {"c.json", c}}, 3);
    QCOMPARE(pointAt(again, 128).ci95LowMs, p.ci95LowMs);
    // Two hosts: the median of two is their mean.
    const ProfileMerge two = mergeProfiles({{"b.json", b}, {"c.json", c}});
    QCOMPARE(pointAt(two, 128).p50Ms, 2.5);
}

void TestProfileMerge::shapesOnSomeHosts()
{
    // Host b did not measure 512: the merged point is host a's alone (its own interval),
    // and 64, measured by b only, is b's.
    const Profile a =
        hostProfile("host-a", {sampled(128, {1, 1.1}), summarized(512, 5, 4.8, 5.3, 9)});
    const Profile b = hostProfile("host-b", {sampled(64, {0.5, 0.6}), sampled(128, {1.2, 1.3})});
    const ProfileMerge m = mergeProfiles({{"a.json", a}, {"b.json", b}});
    QCOMPARE(m.profile.points.size(), size_t(3));
    QCOMPARE(m.profile.points[0].length, int64_t(64));
    QCOMPARE(m.profile.points[2].length, int64_t(512));
    size_t i = 0;
    const ProfilePoint& p = pointAt(m, 512, &i);
    QCOMPARE(m.points[i].sources, std::vector<std::string>{"a.json"});
    QCOMPARE(m.points[i].method, MergeMethod::OneHost);
    QCOMPARE(p.p50Ms, 5.0);
    QCOMPARE(p.ci95LowMs, 4.8);
    QCOMPARE(p.ci95HighMs, 5.3);
    QCOMPARE(pointAt(m, 64).samplesMs, (std::vector<double>{0.5, 0.6}));
    QCOMPARE(pointAt(m, 64).ci95LowMs, b.points[0].ci95LowMs); // b's own interval
    QCOMPARE(m.profile.settings.at("lengths"), std::string("64,128,512"));
}

void TestProfileMerge::failedShapes()
{
    ProfilePoint failedA;
    failedA.length = 512;
    failedA.error = "out of memory";
    ProfilePoint failed1024 = failedA;
    failed1024.length = 1024;
    ProfilePoint timeout1024 = failed1024;
    timeout1024.error = "timeout";
    const Profile a = hostProfile("host-a", {sampled(128, {1}), failedA, failed1024});
    const Profile b =
        hostProfile("host-b", {sampled(128, {2}), sampled(512, {4, 4.2}), timeout1024});
    const ProfileMerge m = mergeProfiles({{"a.json", a}, {"b.json", b}});
    // 512 failed on a only: b's measurement stands, from b alone.
    size_t i = 0;
    const ProfilePoint& p512 = pointAt(m, 512, &i);
    QVERIFY(p512.ok());
    QCOMPARE(m.points[i].sources, std::vector<std::string>{"b.json"});
    QCOMPARE(p512.samplesMs, (std::vector<double>{4, 4.2}));
    // 1024 failed everywhere: kept as failed, with each host's reason.
    const ProfilePoint& p1024 = pointAt(m, 1024, &i);
    QVERIFY(!p1024.ok());
    QCOMPARE(m.points[i].method, MergeMethod::Failed);
    QCOMPARE(p1024.error, std::string("a.json: out of memory; b.json: timeout"));
    QVERIFY(hasFlag(p1024, kFlagFailed));
}

void TestProfileMerge::metadata()
{
    const Profile a = hostProfile("host-a", {sampled(128, {1})});
    const Profile b = hostProfile("host-b", {sampled(128, {2})});
    const ProfileMerge m = mergeProfiles({{"a.json", a}, {"b.json", b}});
    const Profile& p = m.profile;
    QCOMPARE(p.modelSha256, a.modelSha256);
    QCOMPARE(p.deviceKind, std::string("neuron"));
    QCOMPARE(p.environment.at("host"), std::string("host-a, host-b"));
    QCOMPARE(p.environment.at("torch"), std::string("1.13.1"));
    QCOMPARE(p.settings.at("merged_from"), std::string("a.json,b.json"));
    QCOMPARE(p.settings.at("inputs"), std::string("input_ids:int64:0:1"));
    QVERIFY(!p.settings.count("budget_s")); // one run's setting, which differs
    const auto j = m.toJson();
    QCOMPARE(j.at("profiles").size(), size_t(2));
    QCOMPARE(j.at("points")[0].at("method").get<std::string>(), std::string("pooled samples"));
    QCOMPARE(j.at("points")[0].at("hosts").size(), size_t(2));
}

void TestProfileMerge::refusesDifferentProfiles_data()
{
    QTest::addColumn<ProfileEdit>("edit");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("another model")
        << ProfileEdit([](Profile& p) {
               p.modelSha256 = std::string(64, 'b');
               p.modelFile = "other.pt";
           })
        << "the models differ: encoder.pt (SHA-256 aaaaaaaaaaaa...) in a.json, other.pt "
           "(SHA-256 bbbbbbbbbbbb...) in b.json";
    QTest::addRow("no model hash")
        << ProfileEdit([](Profile& p) { p.modelSha256.clear(); }) << "the model's SHA-256 differs";
    QTest::addRow("other inputs") << ProfileEdit([](Profile& p) {
        p.settings["inputs"] = "input_ids:int32:0:1";
    }) << "the inputs differ: 'input_ids:int64:0:1' in a.json, 'input_ids:int32:0:1' in b.json";
    QTest::addRow("other length dimension")
        << ProfileEdit([](Profile& p) { p.settings["bucket_dim"] = "2"; })
        << "the length dimensions differ: '1' in a.json, '2' in b.json";
    QTest::addRow("other batch dimension")
        << ProfileEdit([](Profile& p) { p.settings["batch_dim"] = "1"; })
        << "the batch dimensions differ";
    QTest::addRow("package against model")
        << ProfileEdit([](Profile& p) { p.settings["target"] = "package forward"; })
        << "the measured targets differ: 'model forward' in a.json, 'package forward' in b.json";
    QTest::addRow("cpu against neuron") << ProfileEdit([](Profile& p) { p.deviceKind = "cpu"; })
                                        << "the device kinds differ: 'neuron' in a.json, 'cpu'";
    QTest::addRow("other device") << ProfileEdit([](Profile& p) { p.deviceName = "Xeon"; })
                                  << "the devices differ: 'neuron' in a.json, 'Xeon' in b.json";
    QTest::addRow("other thread count") << ProfileEdit([](Profile& p) { p.threads = 4; })
                                        << "the thread counts differ: '1' in a.json, '4' in b.json";
    QTest::addRow("other clock") << ProfileEdit([](Profile& p) {
        p.settings["clock"] = "thread-cpu";
    }) << "the clocks differ: 'wall' in a.json, 'thread-cpu' in b.json";
}

void TestProfileMerge::refusesDifferentProfiles()
{
    QFETCH(ProfileEdit, edit);
    QFETCH(QString, mentions);
    const Profile a = hostProfile("host-a", {sampled(128, {1})});
    Profile b = hostProfile("host-b", {sampled(128, {1})});
    edit(b);
    QVERIFY(profileDifference({"a.json", a}, {"b.json", b}).size() > 0);
    try {
        mergeProfiles({{"a.json", a}, {"b.json", b}});
        QFAIL("merged different profiles");
    } catch (const Error& e) {
        const QString message = e.what();
        QVERIFY2(message.contains(mentions), e.what());
        QVERIFY2(message.contains("cannot merge b.json with a.json"), e.what());
        QVERIFY(!message.contains('\n'));
    }
    // A difference the merge does not care about: only the run's own settings.
    Profile c = hostProfile("host-c", {sampled(128, {1})});
    c.settings["budget_s"] = "1000";
    c.settings.erase("clock"); // the Neuron host script records no clock
    QCOMPARE(profileDifference({"a.json", a}, {"c.json", c}), std::string());
}

void TestProfileMerge::refusesTooFewOrRepeated()
{
    const Profile a = hostProfile("host-a", {sampled(128, {1})});
    auto refuses = [&](const std::vector<ProfileSource>& sources, const QString& mentions) {
        try {
            mergeProfiles(sources);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(mentions), e.what());
            return;
        }
        QFAIL("merged anyway");
    };
    refuses({{"a.json", a}}, "1 profile given; give two or more");
    refuses({{"a.json", a}, {"a.json", a}}, "a.json is given twice");
    QTemporaryDir dir;
    const std::string path = dir.filePath("a.json").toStdString();
    writeProfile(path, a, false);
    try {
        mergeProfileFiles({path, dir.filePath("./a.json").toStdString()});
        QFAIL("merged a file with itself");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("are the same file"), e.what());
    }
}

void TestProfileMerge::mergedFileIsALatencyCurve()
{
    // Written, read back and turned into the tuner's curve exactly as `tune --latency` does.
    const Profile a =
        hostProfile("host-a", {sampled(64, {0.5, 0.7}), sampled(128, {1, 1.2}), sampled(512, {4})});
    const Profile b =
        hostProfile("host-b", {sampled(128, {1.4}), summarized(512, 5, 4.5, 5.5, 20)});
    QTemporaryDir dir;
    const std::string pa = dir.filePath("a.json").toStdString();
    const std::string pb = dir.filePath("b.json").toStdString();
    writeProfile(pa, a, false);
    writeProfile(pb, b, false);
    const ProfileMerge m = mergeProfileFiles({pa, pb});
    const std::string out = dir.filePath("merged.json").toStdString();
    writeProfile(out, m.profile, false);
    const LatencyCurve curve = LatencyCurve::load(out);
    QCOMPARE(curve.measured().size(), size_t(3));
    QCOMPARE(curve.at(64), 0.6);
    QCOMPARE(curve.at(128), 1.2); // median of 1, 1.2, 1.4
    QCOMPARE(curve.at(512), 4.5); // median of host medians 4 and 5
    const Profile back = readProfile(out);
    QCOMPARE(back.points[1].samplesMs, (std::vector<double>{1, 1.2, 1.4}));
    QCOMPARE(back.points[2].ci95LowMs, m.profile.points[2].ci95LowMs);
}

QTEST_GUILESS_MAIN(TestProfileMerge)
#include "tst_profile_merge.moc"
