#include "ui/views/packageview.h"

#include "ui/models/packagetablemodels.h"
#include "ui/models/palette.h"
#include "ui/views/plot.h"
#include "ui/views/tablecopy.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace bucketlab::ui {

PackageView::PackageView(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    title_ = new QLabel(this);
    title_->setObjectName("packageTitle");
    QFont f = title_->font();
    f.setPointSizeF(f.pointSizeF() * 1.4);
    f.setBold(true);
    title_->setFont(f);
    subtitle_ = new QLabel(this);
    subtitle_->setObjectName("packageSubtitle");
    subtitle_->setWordWrap(true);
    layout->addWidget(title_);
    layout->addWidget(subtitle_);

    plot_ = new QCustomPlot(this);
    plot_->setObjectName("bucketLayoutPlot");
    plot_->setMinimumHeight(170);
    plot_->setMaximumHeight(220);
    plot_->xAxis->setLabel(tr("input length (tokens)"));
    plot_->yAxis->setVisible(false);
    plot_->setToolTip(tr("Each span is one bucket: inputs whose length falls in it are padded "
                         "to its right edge"));

    buckets_ =
        new RowTableModel({tr("Bucket"), tr("Length"), tr("Serves lengths"), tr("Model")}, this);
    inputs_ =
        new RowTableModel({tr("Input"), tr("dtype"), tr("Pad value"), tr("Fill value")}, this);
    methods_ = new RowTableModel({tr("Method"), tr("Signature")}, this);
    tensors_ =
        new RowTableModel({tr("Tensor"), tr("Shape"), tr("dtype"), tr("Size"), tr("Kind")}, this);
    metadata_ = new RowTableModel({tr("Field"), tr("Value")}, this);

    auto* left = new QTabWidget(this);
    left->addTab(makeTable(buckets_, "bucketTable"), tr("Buckets"));
    left->addTab(makeTable(inputs_, "inputTable"), tr("Inputs"));
    auto* right = new QTabWidget(this);
    right->addTab(makeTable(metadata_, "metadataTable"), tr("Metadata"));
    right->addTab(makeTable(methods_, "methodTable"), tr("Methods"));
    right->addTab(makeTable(tensors_, "tensorTable"), tr("Tensors"));

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);

    auto* vsplit = new QSplitter(Qt::Vertical, this);
    vsplit->addWidget(plot_);
    vsplit->addWidget(split);
    vsplit->setStretchFactor(1, 1);
    layout->addWidget(vsplit, 1);
    clear();
}

QTableView* PackageView::makeTable(RowTableModel* model, const QString& objectName)
{
    auto* view = new QTableView(this);
    view->setObjectName(objectName);
    view->setModel(model);
    installTableCopy(view);
    view->setAlternatingRowColors(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->verticalHeader()->setVisible(false);
    view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    view->horizontalHeader()->setStretchLastSection(true);
    view->setWordWrap(false);
    return view;
}

void PackageView::clear()
{
    title_->setText(tr("No model open"));
    subtitle_->setText(tr("Open a TorchScript model or a BucketLab package (File ▸ Open, or drop "
                          "a .pt file here), or start with File ▸ Open Demo."));
    for (auto* m : {buckets_, inputs_, methods_, tensors_, metadata_})
        m->setRows({});
    plot_->clearItems();
    plot_->clearPlottables();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void PackageView::setModelInfo(const ModelInfo& info)
{
    const QString name = QFileInfo(QString::fromStdString(info.path)).fileName();
    if (const auto& m = info.package) {
        QStringList b;
        for (auto x : m->boundaries)
            b << QString::number(x);
        title_->setText(
            tr("%1 — BucketLab package, %n bucket(s)", nullptr, int(m->boundaries.size()))
                .arg(name));
        subtitle_->setText(tr("Buckets %1 on dimension %2 · %3 inputs · %4 · %5 parameters · "
                              "%6 on disk")
                               .arg(b.join(", "))
                               .arg(m->bucketDim)
                               .arg(m->inputs.size())
                               .arg(m->kind == PackageKind::Shared
                                        ? tr("one model shared by all buckets")
                                        : tr("one model per bucket"))
                               .arg(QLocale().toString(qlonglong(info.parameterCount)))
                               .arg(humanBytes(info.fileBytes)));
    } else {
        title_->setText(tr("%1 — TorchScript model").arg(name));
        subtitle_->setText(tr("Not a package yet: %1 methods · %2 parameters · %3 on disk. "
                              "Package it with bucketlab-cli build.")
                               .arg(info.methods.size())
                               .arg(QLocale().toString(qlonglong(info.parameterCount)))
                               .arg(humanBytes(info.fileBytes)));
    }
    buckets_->setRows(bucketRows(info));
    inputs_->setRows(inputRows(info));
    methods_->setRows(methodRows(info));
    tensors_->setRows(tensorRows(info));
    metadata_->setRows(metadataRows(info));
    drawLayout(info);
}

void PackageView::drawLayout(const ModelInfo& info)
{
    plot_->clearItems();
    plot_->clearPlottables();
    if (!info.package || info.package->boundaries.empty()) {
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const auto& b = info.package->boundaries;
    double previous = 0;
    for (size_t k = 0; k < b.size(); ++k) {
        auto* span = new QCPItemRect(plot_);
        span->topLeft->setCoords(previous, 1.0);
        span->bottomRight->setCoords(double(b[k]), 0.0);
        // The package's buckets are its current set: that set's colour (ui/palette.h), every
        // other span lighter so neighbours stay apart without a colour per position.
        QColor c = boundarySetColor("current", "current", plot_->palette());
        span->setPen(QPen(c, 1.5));
        c.setAlpha(k % 2 == 0 ? 110 : 50);
        span->setBrush(c);
        auto* label = new QCPItemText(plot_);
        label->position->setCoords((previous + double(b[k])) / 2.0, 0.5);
        label->setText(tr("bucket_%1\n≤ %2").arg(k).arg(b[k]));
        label->setClipToAxisRect(true);
        previous = double(b[k]);
    }
    plot_->xAxis->setRange(0, double(b.largest()) * 1.02);
    plot_->yAxis->setRange(0, 1.0);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace bucketlab::ui
