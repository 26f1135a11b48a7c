// Profiling from the Latency view: the real panel and view over a real package, driven by
// clicks. Points appear on the plot while the run goes on, the finished profile is saved,
// listed and becomes the tuning curve; Cancel stops within the profiler's promise and saves
// nothing; the UI thread never stalls; bad set-ups say so in the panel.
#include "core/archive/model_info.h"
#include "core/latency/profile_grid.h"
#include "guitest.h"
#include "stallwatchdog.h"
#include "testutil.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/profiletablemodel.h"
#include "ui/models/savedprofiles.h"
#include "ui/models/session.h"
#include "ui/views/latencyview.h"
#include "ui/views/plot.h"
#include "ui/views/profilepanel.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>

#include <memory>

using namespace bucketlab;
using namespace bucketlab::test;
using bucketlab::ui::BackgroundJob;
using bucketlab::ui::LatencyView;
using bucketlab::ui::ProfilePanel;
using bucketlab::ui::SavedProfiles;
using bucketlab::ui::Session;

class TestProfilePanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void profilesLiveSavesAndBecomesTheCurve();
    void cancelStopsQuicklyAndSavesNothing();
    void plainModelWithoutInputsSaysSo();
    void noModelDisablesProfiling();
    void savedProfilesAreOfferedAgainAfterARestart();

private:
    template <typename T> T* child(const char* name) const
    {
        T* w = view_->findChild<T*>(name);
        if (!w)
            qFatal("no %s", name);
        return w;
    }

    QTemporaryDir dir_;
    QString package_, model_;
    std::unique_ptr<Session> session_;
    std::unique_ptr<LatencyView> view_;
    std::unique_ptr<QAbstractItemModelTester> tester_;
};

void TestProfilePanel::initTestCase()
{
    // Profiles saved here are remembered in QSettings: keep them out of the other GUI tests'
    // settings (they run in parallel and open models of the same name).
    QCoreApplication::setApplicationName("BucketLabTestProfilePanel");
    QVERIFY(dir_.isValid());
    const auto r =
        runCli({"demo", "--out", dir_.filePath("demo"), "--verify-budget", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    package_ = dir_.filePath("demo/demo_package.pt");
    model_ = dir_.filePath("demo/demo_model.pt");
}

void TestProfilePanel::init()
{
    QSettings().remove("profiles"); // no run remembers another's profiles
    session_ = std::make_unique<Session>();
    session_->setModel(inspectModel(package_.toStdString()));
    view_ = std::make_unique<LatencyView>(session_.get());
    tester_ = std::make_unique<QAbstractItemModelTester>(
        view_->tableModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view_->profilePanel()->setOutputDirectory(dir_.filePath("profiles"));
    view_->resize(1280, 800);
    view_->show();
}

void TestProfilePanel::cleanup()
{
    tester_.reset();
    view_.reset();
    session_.reset();
}

void TestProfilePanel::profilesLiveSavesAndBecomesTheCurve()
{
    child<QSpinBox>("profileGrid")->setValue(4);
    child<QSpinBox>("profileBudget")->setValue(6);
    ProfilePanel* panel = view_->profilePanel();
    StallWatchdog watchdog([&] { return panel->isProfiling(); });
    QSignalSpy live(panel, &ProfilePanel::liveUpdated);
    QSignalSpy stopped(panel, &ProfilePanel::profilingStopped);
    int plottedWhileRunning = 0;
    connect(panel, &ProfilePanel::liveUpdated, this, [&] {
        if (panel->isProfiling())
            plottedWhileRunning = std::max(plottedWhileRunning, view_->plot()->graphCount());
    });
    QTest::mouseClick(child<QPushButton>("profileRun"), Qt::LeftButton);
    QVERIFY(panel->isProfiling());
    QVERIFY(!child<QPushButton>("profileRun")->isEnabled());
    QVERIFY(child<QPushButton>("profileCancel")->isEnabled());
    QVERIFY(child<QWidget>("profileProgress")->isVisible());
    QVERIFY(signalSeen(stopped, 60000));
    QCOMPARE(stopped.first().first().toBool(), true);

    // Points were drawn before the run ended.
    QVERIFY(live.count() >= 2);
    QVERIFY(plottedWhileRunning >= 1);
    // The profile was saved, listed and made the tuning curve.
    QCOMPARE(session_->profiles().size(), size_t(1));
    const auto& saved = session_->profiles().front();
    QVERIFY(QFileInfo::exists(saved.path));
    QVERIFY(saved.path.startsWith(dir_.filePath("profiles")));
    const std::vector<int64_t> expected = gridLengths(4, 16, 512, {128, 512});
    std::vector<int64_t> lengths;
    for (const auto& p : saved.profile.points) {
        lengths.push_back(p.length);
        QVERIFY2(p.ok(), p.error.c_str());
        QVERIFY(p.p50Ms > 0);
    }
    QCOMPARE(lengths, expected);
    QCOMPARE(saved.profile.settings.at("target"), std::string("package bucket model"));
    QVERIFY(session_->hasLatency());
    QCOMPARE(QString::fromStdString(session_->latencySource()->source), saved.path);
    QCOMPARE(session_->latency().measured().size(), expected.size());
    QCOMPARE(view_->tableModel()->rowCount(), int(expected.size()));
    QVERIFY(child<QLabel>("profileStatus")->text().contains("Saved"));
    QVERIFY(child<QPushButton>("profileRun")->isEnabled());
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

void TestProfilePanel::cancelStopsQuicklyAndSavesNothing()
{
    child<QSpinBox>("profileGrid")->setValue(8);
    child<QSpinBox>("profileBudget")->setValue(120);
    ProfilePanel* panel = view_->profilePanel();
    const QString out = dir_.filePath("cancelled");
    panel->setOutputDirectory(out);
    StallWatchdog watchdog([&] { return panel->isProfiling(); });
    QSignalSpy live(panel, &ProfilePanel::liveUpdated);
    QSignalSpy cancelled(panel->job(), &BackgroundJob::cancelled);
    QTest::mouseClick(child<QPushButton>("profileRun"), Qt::LeftButton);
    QVERIFY(signalSeen(live, 30000)); // sampling is under way
    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(child<QPushButton>("profileCancel"), Qt::LeftButton);
    QVERIFY(signalSeen(cancelled, 10000));
    // That the profiler starts no call after a cancel is tst_profiler's (on a simulated
    // clock); here, what it took on this machine.
    qInfo("cancelling the profile took %lld ms", clock.elapsed());
    QVERIFY(session_->profiles().empty());
    QVERIFY(!session_->hasLatency());
    QVERIFY(!QDir(out).exists() || QDir(out).entryList(QDir::Files).isEmpty());
    QVERIFY(view_->profilePanel()->liveProfile().points.empty());
    QVERIFY(child<QLabel>("profileStatus")->text().contains("cancelled"));
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

void TestProfilePanel::plainModelWithoutInputsSaysSo()
{
    session_->setModel(inspectModel(model_.toStdString()));
    QVERIFY(child<QLineEdit>("profileInputs")->isVisibleTo(view_.get()));
    QSignalSpy stopped(view_->profilePanel(), &ProfilePanel::profilingStopped);
    QTest::mouseClick(child<QPushButton>("profileRun"), Qt::LeftButton);
    QCOMPARE(stopped.count(), 1);
    QVERIFY(!view_->profilePanel()->isProfiling());
    QVERIFY2(child<QLabel>("profileStatus")->text().contains("needs its inputs"),
             qPrintable(child<QLabel>("profileStatus")->text()));

    child<QLineEdit>("profileInputs")->setText("input_ids:int64:0,attention_mask:int65");
    QTest::mouseClick(child<QPushButton>("profileRun"), Qt::LeftButton);
    QCOMPARE(stopped.count(), 2);
    QVERIFY2(child<QLabel>("profileStatus")->text().contains("int65"),
             qPrintable(child<QLabel>("profileStatus")->text()));
}

void TestProfilePanel::noModelDisablesProfiling()
{
    Session empty;
    LatencyView view(&empty);
    auto* run = view.findChild<QPushButton*>("profileRun");
    QVERIFY(run);
    QVERIFY(!run->isEnabled());
    QVERIFY(!view.findChild<QPushButton*>("profileCancel")->isEnabled());
}

void TestProfilePanel::savedProfilesAreOfferedAgainAfterARestart()
{
    child<QSpinBox>("profileGrid")->setValue(2);
    child<QSpinBox>("profileBudget")->setValue(2);
    QSignalSpy stopped(view_->profilePanel(), &ProfilePanel::profilingStopped);
    QTest::mouseClick(child<QPushButton>("profileRun"), Qt::LeftButton);
    QVERIFY(signalSeen(stopped, 60000));
    QVERIFY(stopped.first().first().toBool());
    QCOMPARE(session_->profiles().size(), size_t(1));
    const QString saved = QFileInfo(session_->profiles().front().path).fileName();

    // Quit and start again on the same package: nothing in the session, no project saved.
    view_.reset();
    session_ = std::make_unique<Session>();
    view_ = std::make_unique<LatencyView>(session_.get());
    view_->show();
    auto* compare = child<QComboBox>("compareChooser");
    QVERIFY(compare);
    QCOMPARE(compare->findText(saved), -1); // no model yet: nothing to compare
    session_->setModel(inspectModel(package_.toStdString()));
    // The user opens the demo's profile too; the saved one comes back beside it.
    const QString demoProfile = dir_.filePath("demo/demo_profile.json");
    session_->addProfile({demoProfile, readProfile(demoProfile.toStdString())});
    QTRY_VERIFY_WITH_TIMEOUT(compare->findText(saved) >= 0, 30000);
    QCOMPARE(child<QComboBox>("profileChooser")->currentText(), QString("demo_profile.json"));
    // Chosen, it is drawn beside the first profile.
    const int before = view_->plot()->graphCount();
    compare->setCurrentIndex(compare->findText(saved));
    QTRY_VERIFY(view_->plot()->graphCount() > before);

    // A plain model of another name gets none of the package's profiles.
    Session other;
    LatencyView otherView(&other);
    QSignalSpy restored(otherView.profilePanel()->savedProfiles(), &SavedProfiles::restored);
    other.setModel(inspectModel(model_.toStdString()));
    if (otherView.profilePanel()->savedProfiles()->job()->isRunning())
        QVERIFY(signalSeen(restored, 30000));
    QCOMPARE(other.profiles().size(), size_t(0));
}

BUCKETLAB_GUI_TEST_MAIN(TestProfilePanel)
#include "tst_profilepanel.moc"
