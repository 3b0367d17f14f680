"""Archived bytes of a detail page -> a document record. Pure: no network, no database."""

from scraper.parse.article import parse_article
from scraper.parse.errors import EmptyPageError, NotHtmlError, ParseError
from scraper.parse.links import Link
from scraper.parse.model import ParsedArticle

PARSER_VERSION = "5"  # bump whenever the output for the same bytes changes (3: 生成日期 etc. are written_date, inline fields, hidden copies, attachments by evidence; 4: `无` is no value, .article_content is a body container; 5: `来源：本站` is no publisher, a nameless link gives way to the link that names its file, a byline's bare `日期：` is the publish date before <meta PubDate>, no known container -> the element with the most paragraph text, QR-code widgets are not body)

__all__ = ["PARSER_VERSION", "EmptyPageError", "Link", "NotHtmlError", "ParseError", "ParsedArticle", "parse_article"]
