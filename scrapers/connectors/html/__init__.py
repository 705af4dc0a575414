from scrapers.connectors.html.config import Config
from scrapers.connectors.html.connector import HtmlConnector

__all__ = ["Config", "HtmlConnector"]
