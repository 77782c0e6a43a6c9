DROP TABLE category_watches;
