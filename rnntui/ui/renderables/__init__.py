"""Pure Rich renderables the TUI draws with: charts, gradient-flow bars and hidden-state heatmaps.

No Textual and no torch here: each class takes numpy arrays and implements `__rich_console__`, filling
options.max_width x options.height, so the widgets around them stay thin and the renderables can be
tested with a recording Console.
"""

from rnntui.ui.renderables.gradflow import GradFlow
from rnntui.ui.renderables.heatmap import Heatmap, colored_text
from rnntui.ui.renderables.linechart import HLine, LineChart, Series
from rnntui.ui.renderables.traincharts import LossChart, NormChart

__all__ = ["GradFlow", "HLine", "Heatmap", "LineChart", "LossChart", "NormChart", "Series", "colored_text"]
